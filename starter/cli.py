"""supplybridge: onboard suppliers, submit and follow purchase orders and invoices, follow
replenishments, decide open exceptions, run the stack. Every command takes --json and then
prints exactly one JSON object (with "ok": true or false). Exit codes: 0 done (or waiting for a
person), 1 the platform could not do it, 2 bad input or usage, 3 the business process rejected
the request."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from importlib import metadata
from typing import Annotated

import typer
import typer.main

from runtime.logs import configure_logging
from starter.output import ExitCode, print_error

# Help is plain text (rich_markup_mode=None): brackets in it are printed as written, never read
# as Rich markup. Subcommand groups are made the same way (cli_common.command_group).
cli = typer.Typer(
    add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False, rich_markup_mode=None
)


def _print_version(value: bool) -> None:
    if value:
        print(f"supplybridge {metadata.version('supplybridge')}")
        raise typer.Exit()


@cli.callback()
def common(
    ctx: typer.Context,
    address: Annotated[
        str | None, typer.Option(help="Temporal frontend host:port [SUPPLYBRIDGE_TEMPORAL_ADDRESS].")
    ] = None,
    namespace: Annotated[str | None, typer.Option(help="Temporal namespace.")] = None,
    task_queue: Annotated[str | None, typer.Option(help="Task queue of the worker.")] = None,
    ui_port: Annotated[int | None, typer.Option(help="Temporal UI port, for the links printed.")] = None,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version)
    ] = False,
) -> None:
    ctx.obj = {
        "temporal_address": address,
        "temporal_namespace": namespace,
        "task_queue": task_queue,
        "temporal_ui_port": ui_port,
    }


# Where each command lives: (module, attribute). A top-level command is a function, a group a
# Typer app. `main` imports only the module of the command it was asked for: importing all of
# them (SQLAlchemy and the store, FastAPI, the Temporal client, every workflow) took about 1 s of
# every command's start, and most commands need a third of that. Help without a command, and an
# unknown command (its error suggests the closest), load them all.
COMMANDS: dict[str, tuple[str, str]] = {
    "onboard": ("starter.cli_onboarding", "onboard"),
    "status": ("starter.cli_onboarding", "status"),
    "approve": ("starter.cli_decisions", "approve"),
    "reject": ("starter.cli_decisions", "reject"),
    "queues": ("starter.cli_queues", "queues"),
    "intake": ("starter.cli_intake", "intake"),
    "up": ("starter.cli_services", "up"),
    "worker": ("starter.cli_services", "worker"),
    "sandbox": ("starter.cli_services", "sandbox"),
    "api": ("starter.cli_services", "api"),
    "events": ("starter.cli_services", "events"),
    "demo": ("starter.cli_services", "demo"),
}
GROUPS: dict[str, tuple[str, str]] = {
    "po": ("starter.cli_procurement", "po_app"),
    "invoice": ("starter.cli_procurement", "invoice_app"),
    "exceptions": ("starter.cli_decisions", "exceptions_app"),
    "token": ("starter.cli_governance", "token_app"),
    "audit": ("starter.cli_governance", "audit_app"),
    "schedules": ("starter.cli_master_data", "schedules_app"),
    "sync": ("starter.cli_master_data", "sync_app"),
    "inventory": ("starter.cli_replenishment", "inventory_app"),
    "replenishment": ("starter.cli_replenishment", "replenishment_app"),
    "partners": ("starter.cli_intake", "partners_app"),
    "dead-letters": ("starter.cli_dead_letters", "dead_letters_app"),
    "edi": ("starter.cli_edi", "edi_app"),
    "subscriptions": ("starter.cli_subscriptions", "subscriptions_app"),
    "alerts": ("starter.cli_alerts", "alerts_app"),
    "report": ("starter.cli_report", "report_app"),
    "runs": ("starter.cli_runs", "runs_app"),
}
_registered: set[str] = set()


def register(names: Iterable[str]) -> typer.Typer:
    """`cli` with these commands added (in the order of the tables above)."""
    wanted = set(names)
    for name, (module, attribute) in (*COMMANDS.items(), *GROUPS.items()):
        if name in wanted and name not in _registered:
            target = getattr(importlib.import_module(module), attribute)
            if name in GROUPS:
                cli.add_typer(target, name=name)
            else:
                cli.command()(target)
            _registered.add(name)
    return cli


def requested_command(argv: list[str]) -> str | None:
    """The command named on this command line, when it is one we know; None for help, a bare
    `supplybridge`, or an unknown name."""
    taking_values = _common_options_with_values()
    arguments = iter(argv)
    for argument in arguments:
        if argument in taking_values:
            next(arguments, None)
        elif not argument.startswith("-"):
            return argument if argument in COMMANDS or argument in GROUPS else None
    return None


def _common_options_with_values() -> set[str]:
    """`common`'s options that take a value (`--address HOST:PORT`): read past, with their value,
    when looking for the command's name."""
    command = typer.main.get_command(cli)
    return {name for param in command.params if not getattr(param, "is_flag", False) for name in param.opts}


def app_for(argv: list[str]) -> typer.Typer:
    """The CLI with what this command line needs: its command, or every command."""
    command = requested_command(argv)
    return register([command] if command else [*COMMANDS, *GROUPS])


def __getattr__(name: str) -> typer.Typer:
    """`starter.cli.app`, as imported elsewhere (tests): the CLI with every command."""
    if name == "app":
        return register([*COMMANDS, *GROUPS])
    raise AttributeError(name)


def main() -> None:
    """Console entry point. Exits with os._exit after flushing: a process that used a Temporal
    client can otherwise crash at interpreter shutdown (PyGILState_Release)."""
    configure_logging()
    as_json = "--json" in sys.argv
    app = app_for(sys.argv[1:])
    try:
        code = app(standalone_mode=False)
    except typer.Exit as done:
        code = done.exit_code
    except typer.TyperException as error:  # usage: an unknown command or option, a bad value (exit 2)
        code = usage_error(error, as_json)
    except typer.Abort:
        code = 130
    except Exception as error:  # the last word: a clear line, not a traceback, and exit 1
        code = print_error(f"{type(error).__name__}: {error}", as_json, code=ExitCode.PLATFORM_ERROR)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code or 0))


def usage_error(error: typer.TyperException, as_json: bool) -> int:
    """Typer's own errors (its Click's UsageError and BadParameter, exit 2): as Click shows them,
    or one JSON error object naming the option with `--json`."""
    code = int(getattr(error, "exit_code", ExitCode.BAD_INPUT))
    show = getattr(error, "show", None)
    if not as_json and callable(show):
        show()
        return code
    reason = error.format_message()
    param = getattr(error, "param", None)
    field = (getattr(param, "opts", None) or [getattr(param, "name", None)])[0] if param is not None else None
    errors = [{"field": field, "reason": getattr(error, "message", "") or reason}] if field else []
    print_error(reason, as_json, code=ExitCode.BAD_INPUT, **({"errors": errors} if errors else {}))
    return code


if __name__ == "__main__":
    main()
