"""`supplybridge subscriptions deliveries|dead-letters|replay|discard` (registered on the
`subscriptions` group by starter/cli_subscriptions.py): what became of a subscription's
deliveries, and the dead ones replayed or discarded, audited with the person acting.

Exit codes: 0 done; 1 no store to read; 2 bad input (an unknown subscription or delivery, one that
is not dead).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from domain.subscriptions import Delivery, DeliveryStatus
from runtime.stack_record import StoreSource
from starter.cli_common import USER, ByOpt, JsonOpt, choice_metavar, choice_parser, short_reason
from starter.cli_governance import StoreDirOpt, store_fields
from starter.cli_intake import audit, with_store
from starter.operations import subscriptions as subscription_ops
from starter.output import ExitCode, print_error, print_field, print_json, print_line
from store import Store

IdArg = Annotated[str, typer.Argument(metavar="ID", help="The subscription's id, e.g. erp-events.")]
DeliveryIdArg = Annotated[int, typer.Argument(metavar="DELIVERY_ID", help="The delivery's number.")]
LimitOpt = Annotated[int, typer.Option(min=1, max=500, help="At most this many.")]
OffsetOpt = Annotated[int, typer.Option(min=0, help="Skip this many first.")]
DeliveryStatusOpt = Annotated[
    DeliveryStatus | None,
    typer.Option("--status", metavar=choice_metavar(DeliveryStatus), parser=choice_parser(DeliveryStatus),
                 help="Only the deliveries with this status."),
]  # fmt: skip


def subscriptions_deliveries(
    ctx: typer.Context,
    subscription_id: IdArg,
    status: DeliveryStatusOpt = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """A subscription's deliveries, in the order the events were recorded."""

    def work(store: Store, source: StoreSource) -> int:
        if store.outbox.subscription(subscription_id) is None:
            return print_error(f"no subscription {subscription_id} in that store", as_json, code=ExitCode.BAD_INPUT)
        return print_deliveries(store.outbox.deliveries(subscription_id, status, limit, offset), as_json, source,
                                limit=limit, offset=offset)  # fmt: skip

    return with_store(ctx, state_dir, as_json, work)


def subscriptions_dead_letters(
    ctx: typer.Context,
    subscription_id: Annotated[
        str | None, typer.Option("--subscription", metavar="ID", help="Only this subscription's.")
    ] = None,
    limit: LimitOpt = 50,
    offset: OffsetOpt = 0,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Deliveries that failed for good (dead), oldest first: the event, the attempts, the last error."""

    def work(store: Store, source: StoreSource) -> int:
        found = store.outbox.deliveries(subscription_id, DeliveryStatus.DEAD, limit, offset)
        return print_deliveries(found, as_json, source, limit=limit, offset=offset)

    return with_store(ctx, state_dir, as_json, work)


def subscriptions_replay(
    ctx: typer.Context,
    delivery_id: DeliveryIdArg,
    by: ByOpt = USER,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Deliver a dead delivery again, in its turn (before the subscription's pending ones)."""

    return close_dead(ctx, delivery_id, by, state_dir, as_json, "replayed")


def subscriptions_discard(
    ctx: typer.Context,
    delivery_id: DeliveryIdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is not delivered (kept in the audit trail).")],
    by: ByOpt = USER,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Close a dead delivery without delivering it."""
    refused = short_reason(reason, as_json)
    if refused is not None:
        return refused

    return close_dead(ctx, delivery_id, by, state_dir, as_json, "discarded", reason=reason.strip())


def close_dead(ctx: typer.Context, delivery_id: int, by: str, state_dir: Path | None, as_json: bool,
               outcome: Literal["replayed", "discarded"], **details: str) -> int:  # fmt: skip
    """Replay or discard a dead delivery, audited; exit 2 for an unknown one or one not dead."""
    close = subscription_ops.replay if outcome == "replayed" else subscription_ops.discard

    def work(store: Store, source: StoreSource) -> int:
        try:
            done = close(store.outbox, delivery_id, by)
        except (LookupError, ValueError) as refused:
            return print_error(str(refused), as_json, code=ExitCode.BAD_INPUT)
        audit(store, by, f"event_delivery.{outcome}", ("event_delivery", str(delivery_id)), outcome,
              subscription_id=done.subscription_id, event_id=done.event_id, **details)  # fmt: skip
        return print_delivery(done, as_json, source)

    return with_store(ctx, state_dir, as_json, work)


def print_deliveries(found: list[Delivery], as_json: bool, source: StoreSource, **page: int) -> int:
    if as_json:
        print_json(
            {"ok": True, **store_fields(source), **page, "deliveries": [d.model_dump(mode="json") for d in found]}
        )
        return ExitCode.OK
    for d in found:
        failed = f" first failed {d.first_failed_at:%Y-%m-%d %H:%M:%S}" if d.first_failed_at else ""
        print_line(f"{d.delivery_id:6} {d.status.value:9} {d.subscription_id} {d.event_type} {d.subject} "
                   f"(event {d.event_id}) attempts {d.attempts}{failed}")  # fmt: skip
        if d.last_error:
            print_line(f"       {d.last_error}")
    return ExitCode.OK


def print_delivery(delivery: Delivery, as_json: bool, source: StoreSource) -> int:
    if as_json:
        print_json({"ok": True, **store_fields(source), "delivery": delivery.model_dump(mode="json")})
        return ExitCode.OK
    for label, value in delivery.model_dump(mode="json", exclude_none=True).items():
        print_field(label.replace("_", " "), str(value))
    return ExitCode.OK
