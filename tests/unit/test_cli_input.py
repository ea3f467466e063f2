"""Input files the CLI cannot use are bad input (exit 2) with a message naming the file and the
reason: never exit 1 with a raw Python error. A request with several problems reports them all."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from starter.cli import app as cli_app
from tests.examples import example_json


def cli(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli_app, [*args, "--json"], standalone_mode=False)
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exception is None, result.exception
    assert len(lines) == 1, result.output
    return int(result.return_value or 0), json.loads(lines[0])


@pytest.mark.parametrize("command", [["onboard"], ["po", "submit"], ["invoice", "submit"]])
def test_a_directory_given_as_the_file_is_exit_2_naming_it(command: list[str], tmp_path: Path) -> None:
    code, out = cli(*command, str(tmp_path))
    assert code == 2 and out["ok"] is False and "status" not in out
    assert str(tmp_path) in out["error"] and "is a directory" in out["error"]


def test_a_file_that_is_not_utf8_is_exit_2_saying_so(tmp_path: Path) -> None:
    latin1 = tmp_path / "supplier.json"
    latin1.write_bytes('{"legal_name": "Café Médical"}'.encode("latin-1"))
    code, out = cli("onboard", str(latin1))
    assert code == 2 and str(latin1) in out["error"] and "not UTF-8" in out["error"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_exit_2_saying_so(tmp_path: Path) -> None:
    locked = tmp_path / "supplier.json"
    locked.write_text("{}")
    locked.chmod(0)
    code, out = cli("onboard", str(locked))
    assert code == 2 and "permission denied" in out["error"]


def test_invalid_json_names_the_line_and_a_bom_is_accepted(tmp_path: Path) -> None:
    broken = tmp_path / "po.json"
    broken.write_text('{\n  "po_number": "PO-1",\n}')
    code, out = cli("po", "submit", str(broken))
    assert code == 2 and "not valid JSON" in out["error"] and "line 3" in out["error"]

    with_bom = tmp_path / "supplier.json"
    with_bom.write_bytes(b"\xef\xbb\xbf" + b'{"legal_name": "x"}')
    code, out = cli("onboard", str(with_bom))
    assert code == 2 and "is not a valid supplier onboarding request" in out["error"]  # read, then checked


def test_every_problem_of_an_onboarding_request_is_reported_at_once(tmp_path: Path) -> None:
    request = example_json("suppliers/new-supplier.json")
    request["contacts"][0]["email"] = "not-an-email"  # structure
    request["bank_account"]["routing_number"] = "021000022"  # check digit (a business rule)
    request["credentialing"]["documents"] = request["credentialing"]["documents"][1:]  # no W-9
    path = tmp_path / "three-problems.json"
    path.write_text(json.dumps(request))

    code, out = cli("onboard", str(path))
    assert code == 2 and "(3 problem(s))" in out["error"]
    assert {e["field"]: e["reason"] for e in out["errors"]} == {
        "contacts.0.email": "value is not a valid email address: An email address must have an @-sign.",
        "bank_account.routing_number": "the ABA routing number check digit fails",
        "credentialing.documents": "the W9 document is missing",
    }
    assert "021000022" not in json.dumps(out)
