"""`supplybridge`: the command line way in (Typer + Rich). Every command takes `--json` and then
prints exactly one JSON object; exit codes are listed in starter/output.py."""

from __future__ import annotations

import os
import sys
from importlib import metadata
from typing import Annotated

import click
import typer

from runtime.logs import configure_logging
from starter import cli_decisions, cli_governance, cli_onboarding, cli_procurement, cli_services
from starter.output import ExitCode, print_error

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)


def _print_version(value: bool) -> None:
    if value:
        print(f"supplybridge {metadata.version('supplybridge')}")
        raise typer.Exit()


@app.callback()
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


for command in (
    cli_onboarding.onboard,
    cli_onboarding.status,
    cli_decisions.approve,
    cli_decisions.reject,
    *cli_services.COMMANDS,
):
    app.command()(command)
app.add_typer(cli_procurement.po_app, name="po")
app.add_typer(cli_procurement.invoice_app, name="invoice")
app.add_typer(cli_decisions.exceptions_app, name="exceptions")
app.add_typer(cli_governance.token_app, name="token")
app.add_typer(cli_governance.audit_app, name="audit")


def main() -> None:
    """Console entry point. Exits with os._exit after flushing: a process that used a Temporal
    client can otherwise crash at interpreter shutdown (PyGILState_Release)."""
    configure_logging()
    try:
        code = app(standalone_mode=False)
    except click.exceptions.Exit as done:
        code = done.exit_code
    except click.ClickException as error:
        error.show()
        code = ExitCode.BAD_INPUT if isinstance(error, click.UsageError) else error.exit_code
    except click.exceptions.Abort:
        code = 130
    except Exception as error:  # the last word: a clear line, not a traceback, and exit 1
        as_json = "--json" in sys.argv
        code = print_error(f"{type(error).__name__}: {error}", as_json, code=ExitCode.PLATFORM_ERROR)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(code or 0))


if __name__ == "__main__":
    main()
