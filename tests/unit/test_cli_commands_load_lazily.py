"""`supplybridge <command>` imports only that command's module (starter/cli.py): the command line
names the command, help and unknown names load every command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from starter import cli


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["po", "submit", "po.json"], "po"),
        (["--address", "127.0.0.1:7233", "--json", "invoice", "submit", "x.json"], "invoice"),
        (["--namespace", "po", "status", "VM-1"], "status"),  # an option's value is not the command
        (["--ui-port", "8233", "--task-queue", "sync", "runs", "list"], "runs"),
        (["--address=127.0.0.1:7233", "dead-letters", "list"], "dead-letters"),
        (["--help"], None),
        ([], None),
        (["purchase-order", "submit"], None),  # unknown: every command, so the error can suggest
    ],
)
def test_the_command_is_read_from_the_command_line(argv: list[str], expected: str | None) -> None:
    assert cli.requested_command(argv) == expected


def test_every_table_entry_names_a_command_or_a_group_that_exists() -> None:
    app = cli.app  # every command registered
    registered = {command.name or command.callback.__name__ for command in app.registered_commands}  # type: ignore[union-attr]
    groups = {group.name for group in app.registered_groups}
    assert registered == set(cli.COMMANDS)
    assert groups == set(cli.GROUPS)


def _modules_after(argv: list[str]) -> set[str]:
    script = f"import sys\nfrom starter import cli\ncli.app_for({argv!r})\nprint('\\n'.join(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    return set(done.stdout.split())


def test_a_po_command_does_not_import_the_store_or_the_api() -> None:
    loaded = _modules_after(["po", "submit", "po.json"])
    assert "starter.cli_procurement" in loaded
    assert not {"store", "sqlalchemy", "fastapi", "starter.cli_services"} & loaded


def test_help_loads_every_command() -> None:
    loaded = _modules_after(["--help"])
    assert {"starter.cli_procurement", "starter.cli_services", "starter.cli_runs"} <= loaded
