"""`supplybridge inventory consume` and `supplybridge replenishment list|status` (mounted by
starter/cli.py): take stock off a balance at the inventory system, and follow the replenishments
its `stock.below_reorder_point` events start (starter/operations/replenishments.py).

Decisions:
- `inventory consume` talks to the inventory system itself (SUPPLYBRIDGE_INVENTORY_URL, else the
  sandbox's `/inventory`, with SUPPLYBRIDGE_SANDBOX_TOKEN), as a cart scan would: the breach
  reaches its replenishment through the inventory's webhook, never from the CLI, so what the demo
  shows is the event-driven path. The arguments are checked here first (exit 2 naming the field);
  a consumption the inventory refuses (more than on hand, no such balance, a unit the item has
  not) is exit 2 with its field and reason;
- `replenishment status --wait` polls until the run has an order, ended, or waits for purchasing
  (an open sourcing exception: no order comes by itself), and also waits for the run to appear,
  since the breach event is delivered after the consumption answered. Out of time: the run as it
  is, exit 1 (exit 0 when it waits for a person, as everywhere);
- `replenishment list` prints one line per run with every value whole (no table, no cut ids).
"""

from __future__ import annotations

import asyncio
import re
import time
from decimal import Decimal
from typing import Annotated, Any

import typer
from pydantic import Field, ValidationError

from adapters.errors import AdapterError, AuthenticationError, BusinessRuleError
from adapters.http import SystemClient
from adapters.inventory_http import HttpInventory
from domain.base import DomainModel
from domain.purchasing import MAX_QUANTITY, SystemId, UnitOfMeasure
from domain.replenishment_models import ReplenishmentStage, ReplenishmentStatus
from runtime.settings import Settings
from runtime.stack_record import with_running_sandbox
from runtime.temporal_client import connect
from starter.cli_common import JsonOpt, command_group, run_async, settings_from
from starter.operations.replenishments import list_replenishments, replenishment_status
from starter.output import ExitCode, field_errors, print_error, print_field, print_json, print_line, print_ok

inventory_app = command_group("The inventory system: record consumption (a cart scan, a cabinet pull).")
replenishment_app = command_group("Replenishments started by stock breaches: list and follow them.")
LocationArg = Annotated[str, typer.Argument(metavar="LOCATION", help="Location id, e.g. LOC-CS-01.")]
ItemArg = Annotated[str, typer.Argument(metavar="ITEM", help="Item id, e.g. ITM-1001.")]
POLL_SECONDS = 0.5
ENDED = (ReplenishmentStage.COMPLETED, ReplenishmentStage.FAILED)
_FIELD_REASON = re.compile(r"^(?:body\.)?([A-Za-z_][\w.]*): (.+)$", re.DOTALL)


class Consumption(DomainModel):
    """What `inventory consume` sends, checked as the inventory checks it."""

    location_id: SystemId
    item_id: SystemId
    quantity: Decimal = Field(gt=0, le=MAX_QUANTITY)
    uom: UnitOfMeasure | None = None
    reference: str | None = Field(default=None, min_length=1, max_length=120)


def follow_hint(location_id: str, item_id: str) -> str:
    return f"supplybridge replenishment status {location_id} {item_id}"


@inventory_app.command("consume")
def inventory_consume(
    ctx: typer.Context,
    location: LocationArg,
    item: ItemArg,
    quantity: Annotated[str, typer.Argument(metavar="QTY", help="Quantity taken (decimal, more than zero).")],
    uom: Annotated[str | None, typer.Option("--uom", help="Unit taken in (default: the balance's unit).")] = None,
    reference: Annotated[str | None, typer.Option("--reference", help="e.g. the cart scan id.")] = None,
    as_json: JsonOpt = False,
) -> int:
    """Take stock off a location's balance at the inventory system; at or below its reorder point
    it sends a stock breach that starts (or joins) the item's replenishment. Talks to the running
    stack's inventory system unless SUPPLYBRIDGE_SANDBOX_URL or SUPPLYBRIDGE_INVENTORY_URL names one."""
    settings = with_running_sandbox(settings_from(ctx))
    try:
        taken = Consumption.model_validate(
            {"location_id": location, "item_id": item, "quantity": quantity, "uom": uom, "reference": reference}
        )
    except ValidationError as error:
        return print_error("invalid consumption", as_json, code=ExitCode.BAD_INPUT, errors=field_errors(error))

    async def main() -> int:
        try:
            answer = await consume(settings, taken)
        except BusinessRuleError as refused:
            if isinstance(refused, AuthenticationError):
                why = f"the inventory system refused our credentials (SUPPLYBRIDGE_SANDBOX_TOKEN): {refused.message}"
                return print_error(why, as_json, code=ExitCode.PLATFORM_ERROR)
            errors = refusal_errors(refused)
            return print_error("the inventory system refused the consumption", as_json, code=ExitCode.BAD_INPUT,
                               errors=errors)  # fmt: skip
        except AdapterError as error:
            why = f"the inventory system at {settings.system_url('inventory')} failed: {error.message}"
            return print_error(why, as_json, code=ExitCode.PLATFORM_ERROR)
        print_consumption(taken, answer, as_json)
        return ExitCode.OK

    return run_async(main, as_json)


async def consume(settings: Settings, taken: Consumption) -> dict[str, Any]:
    token = settings.sandbox_token.get_secret_value() or None
    url = settings.system_url("inventory")
    async with SystemClient("inventory", url, token=token, timeout=settings.http_timeout_seconds) as client:
        return await HttpInventory(client).consume(
            taken.location_id, taken.item_id, taken.quantity, taken.uom, taken.reference
        )


def refusal_errors(refused: BusinessRuleError) -> list[dict[str, str]]:
    """[{field, reason}] from the inventory's refusal: its detail is `field: reason` (several
    joined by `; ` for a request it could not read); a detail naming no field is the item's."""
    detail = refused.message.split(": ", 1)[1] if " answered " in refused.message else refused.message
    errors = []
    for part in detail.split("; "):
        matched = _FIELD_REASON.match(part.strip())
        errors.append({"field": matched[1], "reason": matched[2]} if matched else {"field": "item_id", "reason": part})
    return errors


def print_consumption(taken: Consumption, answer: dict[str, Any], as_json: bool) -> None:
    balance: dict[str, Any] = answer.get("balance") or {}
    follow = follow_hint(taken.location_id, taken.item_id)
    if as_json:
        print_ok({"consumption_id": answer.get("consumption_id"), "location_id": taken.location_id,
                  "item_id": taken.item_id, "on_hand": balance.get("on_hand"), "uom": balance.get("uom"),
                  "reorder_point": balance.get("reorder_point"), "breached": bool(answer.get("breached")),
                  "event_id": answer.get("event_id"), "follow": follow})  # fmt: skip
        return
    print_field("consumption", str(answer.get("consumption_id")))
    print_field("on hand", f"{balance.get('on_hand')} {balance.get('uom')} of {taken.item_id} at {taken.location_id}")
    if balance.get("reorder_point") is not None:
        print_field("reorder point", f"{balance['reorder_point']} {balance.get('uom')}")
    if answer.get("breached"):
        print_field("breached", f"yes: event {answer.get('event_id')} goes to the item's replenishment")
        print_line("Follow it with:")
        print_line(follow)
    else:
        print_field("breached", "no: above the reorder point")


@replenishment_app.command("list")
def replenishment_list(
    ctx: typer.Context,
    open_only: Annotated[bool, typer.Option("--open", help="Only the runs still open.")] = False,
    as_json: JsonOpt = False,
) -> int:
    """Replenishment runs, newest first: location, item, stage, outcome, PO, supplier, quantity, breaches."""
    settings = settings_from(ctx)

    async def main() -> int:
        found = await list_replenishments(await connect(settings), open_only=open_only)
        if as_json:
            print_ok({"replenishments": [status.model_dump(mode="json") for status in found]})
            return ExitCode.OK
        if not found:
            print_line("no open replenishments" if open_only else "no replenishments")
        for status in found:
            print_line(run_line(status))
        return ExitCode.OK

    return run_async(main, as_json)


def run_line(status: ReplenishmentStatus) -> str:
    """One run on one line, every value whole: `LOC ITEM stage outcome PO supplier qty breaches`."""
    order = status.order
    quantity = f"{_number(order.quantity)} {order.uom}" if order else "-"
    return "  ".join([
        status.location_id, status.item_id, status.stage.value, status.outcome.value if status.outcome else "-",
        f"PO {order.po_number}" if order else "no PO", f"supplier {order.supplier_id}" if order else "-",
        quantity, f"{status.breaches} breach{'es' if status.breaches != 1 else ''}",
    ])  # fmt: skip


@replenishment_app.command("status")
def replenishment_show(
    ctx: typer.Context,
    location: LocationArg,
    item: ItemArg,
    wait: Annotated[
        float | None,
        typer.Option("--wait", metavar="SECONDS", min=0, help="Wait up to SECONDS for an order (or the run's end)."),
    ] = None,
    as_json: JsonOpt = False,
) -> int:
    """The latest replenishment run of an item at a location: its order, the contracts sourcing
    considered (and why each was refused), the PO's stage and any open exception."""
    settings = settings_from(ctx)

    async def main() -> int:
        client = await connect(settings)
        status = await replenishment_status(client, location, item)
        deadline = time.monotonic() + (wait or 0)
        while wait is not None and not settled(status) and time.monotonic() < deadline:
            await asyncio.sleep(min(POLL_SECONDS, max(0.0, deadline - time.monotonic())))
            status = await replenishment_status(client, location, item)
        if status is None:
            waited = f" (waited {wait:g} s)" if wait else ""
            why = f"no replenishment of {item} at {location}{waited}; a stock breach starts one (inventory consume)"
            return print_error(why, as_json, code=ExitCode.PLATFORM_ERROR)
        timed_out = wait is not None and not settled(status)
        error = f"no order after {wait:g} s" if timed_out else None
        print_status(status, as_json, error=error)
        return ExitCode.PLATFORM_ERROR if timed_out else ExitCode.OK

    return run_async(main, as_json)


def settled(status: ReplenishmentStatus | None) -> bool:
    """Nothing more to wait for: an order, an end, or a decision purchasing owes."""
    if status is None:
        return False
    ended = status.outcome is not None or status.stage in ENDED
    return ended or status.order is not None or status.open_exception is not None


def print_status(status: ReplenishmentStatus, as_json: bool, *, error: str | None = None) -> None:
    if as_json:
        print_json({"ok": error is None, **({"error": error} if error else {}), **status.model_dump(mode="json")})
        return
    for label, value in status_lines(status):
        print_field(label, value)
    if error:
        print_field("error", error, style="red")


def status_lines(status: ReplenishmentStatus) -> list[tuple[str, str]]:
    """(label, value) for each line `replenishment status` prints."""
    lines = [("workflow", status.workflow_id), ("stage", status.stage.value)]
    lines += [("outcome", status.outcome.value)] if status.outcome else []
    lines += [("reason", status.reason)] if status.reason else []
    breach = status.last_breach
    last = f" (last {breach.event_id}, from {breach.source})" if breach else ""
    lines.append(("breaches", f"{status.breaches}{last}"))
    if status.position is not None:
        p = status.position
        lines.append(("stock", f"on hand {_number(p.on_hand)} + on order {_number(p.on_order)} + in transit "
                               f"{_number(p.in_transit)} {p.uom}; reorder point {_number(p.reorder_point)}, "
                               f"par {_number(p.par)}"))  # fmt: skip
    if status.quantity_needed is not None and status.position is not None:
        lines.append(("needed", f"{_number(status.quantity_needed)} {status.position.uom}"))
    lines += [("critical", "yes: shipped expedited")] if status.critical else []
    if status.sourcing is not None and not status.sourcing.considered:
        lines.append(("contract", f"none: no contract in force prices {status.item_id}"))
    for considered in status.sourcing.considered if status.sourcing else []:
        offer = (f"{_number(considered.quantity)} {considered.uom} at {considered.unit_price}"
                 if considered.quantity is not None and considered.uom else "no price")  # fmt: skip
        verdict = f"refused: {considered.refused}" if considered.refused else "chosen"
        lines.append(("contract", f"{considered.contract_id} ({considered.supplier_id or 'no supplier'}): "
                                  f"{verdict}; {offer}"))  # fmt: skip
    if status.order is not None:
        o = status.order
        contract = f"contract {o.contract_id}" if o.contract_id else "no contract"
        lines.append(("order", f"PO {o.po_number}: {_number(o.quantity)} {o.uom} from {o.supplier_id} at "
                               f"{o.unit_price} ({contract}), value {o.value}, {o.shipping}"))  # fmt: skip
        lines.append(("approval", o.approval))
        lines.append(("chosen by", o.chosen_by))
    lines += [("po stage", status.po_stage.value)] if status.po_stage else []
    opened = status.open_exception
    if opened is not None:
        lines.append(("open exception", f"{opened.kind.value} for team {opened.team}: {opened.summary} "
                                        f"(due {opened.due_at:%Y-%m-%d %H:%M})"))  # fmt: skip
        lines.append(("actions", ", ".join(a.value for a in opened.allowed_actions)))
    for decision in status.decisions:
        resolution = decision.resolution
        lines.append(("decision", f"{resolution.action.value} by {resolution.resolved_by}: {resolution.reason}"))
    return lines


def _number(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.normalize():f}"
