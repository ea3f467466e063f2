"""`supplybridge`: the command line way in (Typer + Rich). Every command takes `--json` and then
prints exactly one JSON object; exit codes are listed in starter/output.py."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer
from pydantic import ValidationError

from domain.onboarding import ReviewAction, ReviewDecision
from domain.supplier import SupplierOnboardingRequest
from runtime.logs import configure_logging
from runtime.settings import Settings
from runtime.temporal_client import TemporalUnavailable, connect
from starter import operations as ops
from starter.output import ExitCode, exit_code_for, field_errors, print_error, print_view

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__, pretty_exceptions_enable=False)
T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
StateDirOpt = Annotated[
    Path | None, typer.Option("--state-dir", help="Where Temporal, the store and the sandbox keep data.")
]


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    values = {k: v for k, v in {**(ctx.obj or {}), **overrides}.items() if v is not None}
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = "; ".join(f"{e['loc'][0] if e['loc'] else ''} {e['msg']}" for e in error.errors())
        raise click.UsageError(problems) from None


@app.callback()
def common(
    ctx: typer.Context,
    address: Annotated[
        str | None, typer.Option(help="Temporal frontend host:port [SUPPLYBRIDGE_TEMPORAL_ADDRESS].")
    ] = None,
    namespace: Annotated[str | None, typer.Option(help="Temporal namespace.")] = None,
    task_queue: Annotated[str | None, typer.Option(help="Task queue of the worker.")] = None,
    ui_port: Annotated[int | None, typer.Option(help="Temporal UI port, for the links printed.")] = None,
) -> None:
    ctx.obj = {
        "temporal_address": address,
        "temporal_namespace": namespace,
        "task_queue": task_queue,
        "temporal_ui_port": ui_port,
    }


def run_async(main: Callable[[], Coroutine[Any, Any, T]], as_json: bool) -> T | ExitCode:
    """Run a command's coroutine; platform failures become a clear message and exit code 1."""
    try:
        return asyncio.run(main())
    except TemporalUnavailable as error:
        return print_error(str(error), as_json, code=ExitCode.PLATFORM_ERROR)
    except ops.UnknownRun as error:
        return print_error(str(error), as_json, code=ExitCode.BAD_INPUT)
    except ops.DecisionRefused as error:
        return print_error(f"refused: {error}", as_json, code=ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        return ExitCode.OK


def read_request(path: Path, as_json: bool) -> SupplierOnboardingRequest | ExitCode:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return print_error(f"{path}: no such file", as_json, code=ExitCode.BAD_INPUT)
    except json.JSONDecodeError as error:
        return print_error(f"{path} is not valid JSON: {error}", as_json, code=ExitCode.BAD_INPUT)
    try:
        return SupplierOnboardingRequest.model_validate(data)
    except ValidationError as error:
        errors = field_errors(error)
        return print_error(
            f"{path} is not a valid supplier onboarding request ({len(errors)} problem(s))",
            as_json,
            code=ExitCode.BAD_INPUT,
            errors=errors,
        )


@app.command()
def onboard(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Supplier onboarding request (JSON, as the vendor system sends it).")],
    wait: Annotated[bool, typer.Option(help="Wait until it completes or waits for a person.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds --wait waits at most.")] = 120.0,
    as_json: JsonOpt = False,
) -> int:
    """Onboard a supplier (workflow id `supplier-onboarding-<vendor id>`; starting twice joins the running one)."""
    settings = settings_from(ctx)
    request = read_request(file, as_json)
    if isinstance(request, ExitCode):
        return request

    async def main() -> int:
        client = await connect(settings)
        handle = await ops.start_onboarding(client, settings, request)
        if wait:
            view = await ops.wait_until_settled(client, settings, handle.id, timeout)
            if view.status == "running" and view.stage not in ops.SETTLED_STAGES:
                view.error = f"still running after {timeout:.0f}s"
                print_view(view, as_json)
                return ExitCode.PLATFORM_ERROR
        else:
            view = ops.RunView(
                workflow_id=handle.id,
                status="running",
                stage="received",
                ui_url=settings.workflow_url(handle.id),
            )
        print_view(view, as_json)
        return exit_code_for(view)

    return int(run_async(main, as_json))


@app.command()
def status(
    ctx: typer.Context,
    workflow_id: Annotated[
        str,
        typer.Argument(
            help="a workflow id (supplier-onboarding-VM-200417, invoice-SUP-0002-NSS-889120) or a PO number"
        ),
    ],
    as_json: JsonOpt = False,
) -> int:
    """Show a run's status, stage and result (exit 0 whenever the run exists)."""
    settings = settings_from(ctx)

    async def main() -> int:
        client = await connect(settings)
        view = await ops.describe_run(client, settings, await ops.find_run_id(client, workflow_id))
        print_view(view, as_json)
        return ExitCode.OK

    return int(run_async(main, as_json))


def _decide(
    ctx: typer.Context,
    workflow_id: str,
    action: ReviewAction,
    reason: str,
    by: str,
    wait: bool,
    as_json: bool,
) -> int:
    settings = settings_from(ctx)
    try:
        decision = ReviewDecision(action=action, reason=reason, decided_by=by)
    except ValidationError as error:
        return print_error("invalid decision", as_json, code=ExitCode.BAD_INPUT, errors=field_errors(error))

    async def main() -> int:
        client = await connect(settings)
        await ops.decide_review(client, workflow_id, decision)
        view = (
            await ops.wait_until_settled(client, settings, workflow_id, 60)
            if wait
            else await ops.describe_run(client, settings, workflow_id)
        )
        print_view(view, as_json)
        return ExitCode.PLATFORM_ERROR if view.is_failure else ExitCode.OK

    return int(run_async(main, as_json))


ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept with the decision).")]
ByOpt = Annotated[str, typer.Option("--by", help="Who decides.")]
WaitOpt = Annotated[bool, typer.Option(help="Wait for the run to finish after the decision.")]


@app.command()
def approve(
    ctx: typer.Context,
    workflow_id: str,
    reason: ReasonOpt,
    by: ByOpt = os.environ.get("USER", "cli"),
    wait: WaitOpt = True,
    as_json: JsonOpt = False,
) -> int:
    """Approve a pending review (e.g. a possible duplicate supplier)."""
    return _decide(ctx, workflow_id, ReviewAction.APPROVE, reason, by, wait, as_json)


@app.command()
def reject(
    ctx: typer.Context,
    workflow_id: str,
    reason: ReasonOpt,
    by: ByOpt = os.environ.get("USER", "cli"),
    wait: WaitOpt = True,
    as_json: JsonOpt = False,
) -> int:
    """Reject a pending review: the process closes and nothing is created."""
    return _decide(ctx, workflow_id, ReviewAction.REJECT, reason, by, wait, as_json)


from starter import cli_services  # noqa: E402  (registers up/worker/sandbox/api/demo/events)

cli_services.register(app, settings_from)

from starter import cli_procurement  # noqa: E402  (registers po/invoice/exceptions)

cli_procurement.register(app, settings_from, run_async)

from starter import cli_governance  # noqa: E402  (registers token/audit)

cli_governance.register(app, settings_from)


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
