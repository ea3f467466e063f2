"""Decisions people owe a process: `supplybridge exceptions list|resolve`, and `approve` /
`reject`, which are `exceptions resolve --action approve|reject` under the names a reviewer of
a possible duplicate supplier looks for. Each decision is the run's `resolve_exception` Update
(starter/operations/messages.py); the run's validator refuses what does not apply (exit 2).

A replenishment's sourcing exception is resolved with `--action order_from` and the supplier and
price to order from (`--supplier`, `--price`, optionally `--uom` and `--contract`), or
`--action dismiss`; those options with another action are refused (exit 2, naming the option)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from pydantic import ValidationError

from domain.decisions import ExceptionAction, ExceptionResolution, OrderFrom
from runtime.temporal_client import connect
from starter import operations as ops
from starter.cli_common import (
    USER,
    WAIT_SECONDS,
    ByOpt,
    JsonOpt,
    ReasonOpt,
    RunRefArg,
    TimeoutOpt,
    WaitOpt,
    choice_metavar,
    choice_parser,
    command_group,
    run_async,
    settings_from,
)
from starter.output import ExitCode, field_errors, print_error, print_line, print_ok, print_view

exceptions_app = command_group("Open exceptions and approvals: list and resolve.")


def decide(
    ctx: typer.Context,
    run: str,
    action: ExceptionAction,
    reason: str,
    by: str,
    wait: bool,
    timeout: float,
    as_json: bool,
    order_from: OrderFrom | None = None,
) -> int:
    """Resolve the open decision of the run `run` names (a workflow id, PO number, invoice key or
    vendor id) and print the run (once it settled, with `wait`): exit 0 whatever was decided, 1 if
    the run failed or is still busy after `timeout`, 2 for a decision refused (a run that has
    ended: "... is completed (outcome X)") or no such run."""
    settings = settings_from(ctx)
    try:
        resolution = ExceptionResolution(action=action, reason=reason, resolved_by=by, order_from=order_from)
    except ValidationError as error:
        return print_error("invalid decision", as_json, code=ExitCode.BAD_INPUT, errors=field_errors(error))

    async def main() -> int:
        client = await connect(settings)
        workflow_id = await ops.resolve_run_id(client, run)
        await ops.resolve_exception(client, workflow_id, resolution)
        view = await ops.settle(client, settings, workflow_id, wait=wait, timeout=timeout)
        still_busy = view.error is not None and view.status == "running"
        code = ExitCode.PLATFORM_ERROR if view.is_failure or still_busy else ExitCode.OK
        print_view(view, as_json, ok=code == ExitCode.OK)
        return code

    return run_async(main, as_json)


@exceptions_app.command("list")
def exceptions_list(
    ctx: typer.Context,
    team: Annotated[
        str | None,
        typer.Option("--team", help="pricing, receiving, accounts-payable, contracting, purchasing (+ managers)"),
    ] = None,
    as_json: JsonOpt = False,
) -> int:
    """Open exceptions and approvals, oldest first, with why they were raised and their evidence."""
    settings = settings_from(ctx)

    async def main() -> int:
        found = await ops.list_exceptions(await connect(settings), team=team)
        if as_json:
            print_ok({"exceptions": [e.model_dump(mode="json") for e in found]})
            return ExitCode.OK
        if not found:
            print_line("no open exceptions" + (f" for team {team}" if team else ""))
        for e in found:
            print_line(e.exception_id, style="bold")
            print_line(
                f"  {e.kind.value}, team {e.team}, due {e.due_at:%Y-%m-%d %H:%M}"
                + (" (escalated)" if e.escalation_level else "")
            )
            print_line(f"  {e.summary}")
            print_line(f"  actions: {', '.join(a.value for a in e.allowed_actions)}")
        return ExitCode.OK

    return run_async(main, as_json)


@exceptions_app.command("resolve")
def exceptions_resolve(
    ctx: typer.Context,
    run: RunRefArg,
    action: Annotated[
        ExceptionAction,
        typer.Option(
            "--action",
            help="What to do (the actions `exceptions list` shows for it).",
            parser=choice_parser(ExceptionAction),
            metavar=choice_metavar(ExceptionAction),
        ),
    ],
    reason: ReasonOpt,
    by: ByOpt = USER,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = WAIT_SECONDS,
    supplier: Annotated[str | None, typer.Option("--supplier", help="order_from: ERP supplier id.")] = None,
    price: Annotated[str | None, typer.Option("--price", help="order_from: unit price (decimal).")] = None,
    uom: Annotated[str | None, typer.Option("--uom", help="order_from: unit (default: the balance's).")] = None,
    contract: Annotated[str | None, typer.Option("--contract", help="order_from: contract id (none: off).")] = None,
    as_json: JsonOpt = False,
) -> int:
    """Resolve an open exception or review (the id `exceptions list` shows); the process then
    continues on its own. A sourcing exception: --action order_from --supplier S --price P, or
    --action dismiss."""
    given = {"supplier_id": supplier, "unit_price": price, "uom": uom, "contract_ref": contract}
    order_from, errors = order_from_options(action, given)
    if errors:
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return print_error(f"invalid decision: {detail}", as_json, code=ExitCode.BAD_INPUT, errors=errors)
    return decide(ctx, run, action, reason, by, wait, timeout, as_json, order_from)


# OrderFrom's fields as `exceptions resolve` names them
ORDER_FROM_OPTIONS = {
    "supplier_id": "--supplier",
    "unit_price": "--price",
    "uom": "--uom",
    "contract_ref": "--contract",
}


def order_from_options(
    action: ExceptionAction, given: dict[str, str | None]
) -> tuple[OrderFrom | None, list[dict[str, str]]]:
    """The `order_from` the options name (only with the action order_from, which needs at least
    the supplier and price), or [{field: the option, reason}] for each option at fault."""
    named: dict[str, Any] = {field: value for field, value in given.items() if value is not None}
    if action is not ExceptionAction.ORDER_FROM:
        reason = f"only with --action order_from, not {action.value}"
        return None, [{"field": ORDER_FROM_OPTIONS[field], "reason": reason} for field in named]
    required = {"supplier_id": "the supplier to order from", "unit_price": "the unit price to order at"}
    missing = [
        {"field": ORDER_FROM_OPTIONS[field], "reason": f"order_from needs {what}"}
        for field, what in required.items()
        if field not in named
    ]
    if missing:
        return None, missing
    try:
        return OrderFrom.model_validate(named), []
    except ValidationError as error:
        found = [(str(e["loc"][0]) if e["loc"] else "order_from", e["msg"]) for e in error.errors()]
        return None, [{"field": ORDER_FROM_OPTIONS.get(field, field), "reason": reason} for field, reason in found]


DeciderOpt = Annotated[str, typer.Option("--by", help="Who decides.")]
DecisionWaitOpt = Annotated[
    bool, typer.Option(help="Wait for the run to finish after the decision (--no-wait: return at once).")
]


def approve(
    ctx: typer.Context,
    run: RunRefArg,
    reason: ReasonOpt,
    by: DeciderOpt = USER,
    wait: DecisionWaitOpt = True,
    timeout: TimeoutOpt = WAIT_SECONDS,
    as_json: JsonOpt = False,
) -> int:
    """Approve a pending review (e.g. a possible duplicate supplier): `exceptions resolve --action approve`."""
    return decide(ctx, run, ExceptionAction.APPROVE, reason, by, wait, timeout, as_json)


def reject(
    ctx: typer.Context,
    run: RunRefArg,
    reason: ReasonOpt,
    by: DeciderOpt = USER,
    wait: DecisionWaitOpt = True,
    timeout: TimeoutOpt = WAIT_SECONDS,
    as_json: JsonOpt = False,
) -> int:
    """Reject a pending review (the process closes, nothing is created): `exceptions resolve --action reject`."""
    return decide(ctx, run, ExceptionAction.REJECT, reason, by, wait, timeout, as_json)
