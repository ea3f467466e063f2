"""Usage errors as a user meets them, through the console entry point (`main`, which turns
Typer's errors into exit codes): a bad choice or a misspelled command is exit 2 with the valid
values and the closest one; with --json it is one JSON object (`ok: false`) naming the option."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest


def supplybridge(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "starter.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin"},
    )


def as_json(*args: str) -> tuple[int, dict[str, Any]]:
    done = supplybridge(*args, "--json")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, (done.stdout, done.stderr)
    return done.returncode, json.loads(lines[0])


def test_a_bad_choice_is_exit_2_listing_the_valid_ones_and_the_closest() -> None:
    code, out = as_json("exceptions", "resolve", "PO-2026-000451", "--action", "aprove", "--reason", "r")
    assert code == 2 and out["ok"] is False and "status" not in out
    assert "'aprove' is not one of approve, reject, accept_variance" in out["error"]
    assert "did you mean 'approve'?" in out["error"]
    assert out["errors"] == [{"field": "--action", "reason": out["errors"][0]["reason"]}]
    assert out["errors"][0]["reason"].startswith("'aprove' is not one of")

    text = supplybridge("exceptions", "resolve", "x", "--action", "aprove", "--reason", "r")
    assert text.returncode == 2 and "did you mean 'approve'?" in text.stderr and not text.stdout


@pytest.mark.parametrize(
    ("args", "suggestion"),
    [(["onbaord", "x"], "Did you mean 'onboard'?"), (["po", "recieve"], "Did you mean 'receive'?")],
)
def test_a_misspelled_command_is_exit_2_with_a_suggestion(args: list[str], suggestion: str) -> None:
    done = supplybridge(*args)
    assert done.returncode == 2 and suggestion in done.stderr, done.stderr
    assert "UsageError" not in done.stderr  # as Click words it, not a Python exception's name


def test_a_missing_argument_is_exit_2_naming_it() -> None:
    code, out = as_json("status")
    assert code == 2 and out["ok"] is False and "Missing argument 'RUN'" in out["error"]
