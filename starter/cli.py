"""supplybridge: onboard suppliers, submit and follow purchase orders and invoices, follow
replenishments, decide open exceptions, run the stack. Every command takes --json and then
prints exactly one JSON object (with "ok": true or false). Exit codes: 0 done (or waiting for a
person), 1 the platform could not do it, 2 bad input or usage, 3 the business process rejected
the request."""

from __future__ import annotations

import os
import sys
from importlib import metadata
from typing import Annotated

import typer

from runtime.logs import configure_logging
from starter import (
    cli_alerts,
    cli_dead_letters,
    cli_decisions,
    cli_edi,
    cli_governance,
    cli_intake,
    cli_master_data,
    cli_onboarding,
    cli_procurement,
    cli_queues,
    cli_replenishment,
    cli_report,
    cli_runs,
    cli_services,
    cli_subscriptions,
)
from starter.output import ExitCode, print_error

# Help is plain text (rich_markup_mode=None): brackets in it are printed as written, never read
# as Rich markup. Subcommand groups are made the same way (cli_common.command_group).
app = typer.Typer(
    add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False, rich_markup_mode=None
)


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
    cli_queues.queues,
    cli_intake.intake,
    *cli_services.COMMANDS,
):
    app.command()(command)
app.add_typer(cli_procurement.po_app, name="po")
app.add_typer(cli_procurement.invoice_app, name="invoice")
app.add_typer(cli_decisions.exceptions_app, name="exceptions")
app.add_typer(cli_governance.token_app, name="token")
app.add_typer(cli_governance.audit_app, name="audit")
app.add_typer(cli_master_data.schedules_app, name="schedules")
app.add_typer(cli_master_data.sync_app, name="sync")
app.add_typer(cli_replenishment.inventory_app, name="inventory")
app.add_typer(cli_replenishment.replenishment_app, name="replenishment")
app.add_typer(cli_intake.partners_app, name="partners")
app.add_typer(cli_dead_letters.dead_letters_app, name="dead-letters")
app.add_typer(cli_edi.edi_app, name="edi")
app.add_typer(cli_subscriptions.subscriptions_app, name="subscriptions")
app.add_typer(cli_alerts.alerts_app, name="alerts")
app.add_typer(cli_report.report_app, name="report")
app.add_typer(cli_runs.runs_app, name="runs")


def main() -> None:
    """Console entry point. Exits with os._exit after flushing: a process that used a Temporal
    client can otherwise crash at interpreter shutdown (PyGILState_Release)."""
    configure_logging()
    as_json = "--json" in sys.argv
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
