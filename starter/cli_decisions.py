"""Decisions people owe a process: `supplybridge exceptions list|resolve`, and `approve` /
`reject`, which are `exceptions resolve --action approve|reject` under the names a reviewer of
a possible duplicate supplier looks for. Each decision is the run's `resolve_exception` Update
(starter/operations/messages.py); the run's validator refuses what does not apply (exit 2)."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from domain.decisions import ExceptionAction, ExceptionResolution
from runtime.temporal_client import connect
from starter import operations as ops
from starter.cli_common import USER, ByOpt, JsonOpt, ReasonOpt, WaitOpt, run_async, settings_from
from starter.output import ExitCode, console, field_errors, print_error, print_json, print_view

SETTLE_SECONDS = 60.0
exceptions_app = typer.Typer(help="Open exceptions and approvals: list and resolve.", no_args_is_help=True)


def decide(
    ctx: typer.Context, workflow_id: str, action: ExceptionAction, reason: str, by: str, wait: bool, as_json: bool
) -> int:
    """Resolve the run's open decision and print the run (once it settled, with `wait`): exit 0
    whatever was decided, 1 if the run failed, 2 for a decision refused or an unknown run."""
    settings = settings_from(ctx)
    try:
        resolution = ExceptionResolution(action=action, reason=reason, resolved_by=by)
    except ValidationError as error:
        return print_error("invalid decision", as_json, code=ExitCode.BAD_INPUT, errors=field_errors(error))

    async def main() -> int:
        client = await connect(settings)
        await ops.resolve_exception(client, workflow_id, resolution)
        view = await ops.settle(client, settings, workflow_id, wait=wait, timeout=SETTLE_SECONDS)
        print_view(view, as_json)
        return ExitCode.PLATFORM_ERROR if view.is_failure else ExitCode.OK

    return run_async(main, as_json)


@exceptions_app.command("list")
def exceptions_list(
    ctx: typer.Context,
    team: Annotated[
        str | None, typer.Option("--team", help="pricing, receiving, accounts-payable, contracting (+ managers)")
    ] = None,
    as_json: JsonOpt = False,
) -> int:
    """Open exceptions and approvals, oldest first, with why they were raised and their evidence."""
    settings = settings_from(ctx)

    async def main() -> int:
        found = await ops.list_exceptions(await connect(settings), team=team)
        if as_json:
            print_json({"status": "ok", "exceptions": [e.model_dump(mode="json") for e in found]})
            return ExitCode.OK
        if not found:
            console.print("no open exceptions" + (f" for team {team}" if team else ""))
        for e in found:
            console.print(
                f"[bold]{e.exception_id}[/bold]  {e.kind.value}  team {e.team}  due {e.due_at:%Y-%m-%d %H:%M}"
                + ("  (escalated)" if e.escalation_level else ""),
                soft_wrap=True,
            )
            console.print(f"  {e.summary}", soft_wrap=True)
            console.print(f"  actions: {', '.join(a.value for a in e.allowed_actions)}")
        return ExitCode.OK

    return run_async(main, as_json)


@exceptions_app.command("resolve")
def exceptions_resolve(
    ctx: typer.Context,
    exception_id: Annotated[str, typer.Argument(help="The id `exceptions list` shows (the workflow id).")],
    action: Annotated[ExceptionAction, typer.Option("--action", help="What to do.")],
    reason: ReasonOpt,
    by: ByOpt = USER,
    wait: WaitOpt = True,
    as_json: JsonOpt = False,
) -> int:
    """Resolve an open exception or review; the process then continues on its own."""
    return decide(ctx, exception_id, action, reason, by, wait, as_json)


DeciderOpt = Annotated[str, typer.Option("--by", help="Who decides.")]
DecisionWaitOpt = Annotated[bool, typer.Option(help="Wait for the run to finish after the decision.")]


def approve(
    ctx: typer.Context,
    workflow_id: str,
    reason: ReasonOpt,
    by: DeciderOpt = USER,
    wait: DecisionWaitOpt = True,
    as_json: JsonOpt = False,
) -> int:
    """Approve a pending review (e.g. a possible duplicate supplier): `exceptions resolve --action approve`."""
    return decide(ctx, workflow_id, ExceptionAction.APPROVE, reason, by, wait, as_json)


def reject(
    ctx: typer.Context,
    workflow_id: str,
    reason: ReasonOpt,
    by: DeciderOpt = USER,
    wait: DecisionWaitOpt = True,
    as_json: JsonOpt = False,
) -> int:
    """Reject a pending review (the process closes, nothing is created): `exceptions resolve --action reject`."""
    return decide(ctx, workflow_id, ExceptionAction.REJECT, reason, by, wait, as_json)
