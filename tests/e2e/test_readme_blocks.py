"""The README's shell blocks, pasted in order by a new user, against one fresh `supplybridge up`.

The rules (the README states them too, in "Running the pieces by hand"):

- every ```sh block runs, in the README's order, in one bash session (a variable one block sets,
  like TOKEN, is there for the next), from a scratch directory that holds the project's
  `examples/` and from which the stack was started (so `events` and `audit` find it through
  `.supplybridge/stack.json`), with the virtualenv's bin first on PATH;
- a block right after a `<!-- doctest: skip -->` line is skipped, and so is each command that
  starts `make`, `docker`, or a long-running `supplybridge up|worker|sandbox|api|demo` (also as
  `.venv/bin/supplybridge`): they start what the test already runs, or need what it has not;
- the README's default addresses are the test stack's: SUPPLYBRIDGE_TEMPORAL_ADDRESS,
  _TEMPORAL_UI_PORT, _API_PORT and _SANDBOX_PORT are set for the commands, and 127.0.0.1:7233,
  :8233, :8000 and :8300 in the text are replaced by the test stack's ports;
- every command must exit 0, or N when its line ends with `# exits N`.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, running_stack

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SKIP_MARKER = "<!-- doctest: skip -->"
LONG_RUNNING = re.compile(r"^(make|docker)\b|^(\.venv/bin/)?supplybridge\s+(up|worker|sandbox|api|demo)\b")
EXPECTED_EXIT = re.compile(r"#\s*exits\s+(\d+)\s*$")
FAILED = 97  # the script's exit code when a command exits other than expected
# A hang guard for the whole script (about 80 commands, ~60 of them CLI processes): 59-65 s in
# quiet full-suite runs since a command imports only its own module, 215-228 s (once over 240 s)
# before that on 2 busy cores; it keeps that room, and the test its own pytest-timeout above the
# suite's 300 s.
SCRIPT_SECONDS = 480


@dataclass(frozen=True)
class Command:
    line: int  # in README.md, of its first line
    text: str
    expected_exit: int


def readme_commands(text: str) -> tuple[list[Command], list[Command]]:
    """The commands of the README's sh blocks in order: (to run, skipped by the rules above)."""
    runs: list[Command] = []
    skipped: list[Command] = []
    lines = text.splitlines()
    number = 0
    while number < len(lines):
        if lines[number].strip() != "```sh":
            number += 1
            continue
        skip_block = number > 0 and lines[number - 1].strip() == SKIP_MARKER
        number += 1
        pending: list[str] = []
        first = 0
        while number < len(lines) and lines[number].strip() != "```":
            line = lines[number]
            number += 1
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            first = first if pending else number
            pending.append(line.rstrip())
            if line.rstrip().endswith("\\"):
                continue
            command = "\n".join(pending)
            pending = []
            found = EXPECTED_EXIT.search(command)
            entry = Command(first, command, int(found.group(1)) if found else 0)
            (skipped if skip_block or LONG_RUNNING.match(command.strip()) else runs).append(entry)
        number += 1
    return runs, skipped


def default_ports_of(stack: Stack) -> dict[str, str]:
    """The README's default ports (Temporal, UI, API, sandbox) -> the test stack's."""
    return {
        "7233": stack.temporal.rsplit(":", 1)[1],
        "8233": str(stack.ui_port),
        "8000": stack.api.rsplit(":", 1)[1],
        "8300": stack.sandbox.rsplit(":", 1)[1],
    }


def script(commands: list[Command], ports: dict[str, str]) -> str:
    """One bash script: each command, its default addresses replaced by `ports`, then a check of
    its exit status naming its README line."""
    parts = []
    for command in commands:
        text = re.sub(r"127\.0\.0\.1:(\d+)\b", lambda m: f"127.0.0.1:{ports.get(m[1], m[1])}", command.text)
        parts.append(f"echo {shlex.quote(f'+ README.md:{command.line}')} >&2")
        parts.append(text)
        parts.append(
            f'rc=$?; if [ "$rc" -ne {command.expected_exit} ]; then '
            f'echo "README.md:{command.line}: exit $rc, expected {command.expected_exit}" >&2; exit {FAILED}; fi'
        )
    return "\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("reader")
    (directory / "examples").symlink_to(ROOT / "examples")
    return directory


@pytest.fixture(scope="module")
def readme_stack(scratch: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("state"), cwd=scratch) as started:
        yield started


def test_the_rules_find_the_blocks_and_skip_only_what_they_say() -> None:
    runs, skipped = readme_commands(README.read_text())
    assert len(runs) >= 20, "the README's usage blocks were not found"
    assert all(LONG_RUNNING.match(c.text.strip()) for c in skipped), skipped
    assert {c.text.split()[0] for c in skipped} >= {"make"}
    assert any(c.text.startswith("supplybridge up --temporal-port") for c in skipped)
    assert all(not c.text.startswith(("supplybridge up", "make ")) for c in runs)


def test_a_failing_command_fails_the_script_and_names_its_line() -> None:
    text = "```sh\ntrue\nfalse   # exits 1\necho 127.0.0.1:8000 | grep -q 127.0.0.1:4000\ntrue\nfalse\n```\n"
    runs, _ = readme_commands(text)
    done = subprocess.run(["bash", "-c", script(runs, {"8000": "4000"})], capture_output=True, text=True, timeout=10)
    assert done.returncode == FAILED and "README.md:6: exit 1, expected 0" in done.stderr, done.stderr


@pytest.mark.timeout(SCRIPT_SECONDS + 60)
def test_every_readme_block_runs_in_order_against_a_fresh_stack(readme_stack: Stack, scratch: Path) -> None:
    runs, _ = readme_commands(README.read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUPPLYBRIDGE_")}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        SUPPLYBRIDGE_TEMPORAL_ADDRESS=readme_stack.temporal,
        SUPPLYBRIDGE_TEMPORAL_UI_PORT=str(readme_stack.ui_port),
        SUPPLYBRIDGE_API_PORT=readme_stack.api.rsplit(":", 1)[1],
        SUPPLYBRIDGE_SANDBOX_PORT=readme_stack.sandbox.rsplit(":", 1)[1],
    )
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script(runs, default_ports_of(readme_stack))],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=SCRIPT_SECONDS,
    )
    failed = re.search(r"README\.md:(\d+): exit", done.stderr)
    where = next((c.text for c in runs if failed and c.line == int(failed.group(1))), "")
    print(done.stdout, done.stderr, sep="\n--- stderr\n")  # shown by pytest -s or on failure
    assert done.returncode == 0, f"{where}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    assert f"+ README.md:{runs[-1].line}" in done.stderr, "the last command did not run"
