"""`supplybridge subscriptions add|list|show|remove|test|deliveries|dead-letters|replay|discard`
(mounted by starter/cli.py): who receives the platform's business events, as CloudEvents, and
what became of their deliveries (starter/operations/subscriptions.py; domain/subscriptions.py).

They read and write the store the way `partners` and `dead-letters` do: the running stack's, or
the one named by --state-dir or SUPPLYBRIDGE_STORE_URL. Every change is audited with the person
acting (`--by`, the login name by default).

Decisions:
- `add` takes exactly one channel: `--webhook URL`, `--broker` or `--team TEAM --url URL`. A
  refusal names the option it is about (`--types`, `--webhook`, `ID`). A webhook's secret is
  generated when not given and printed by `add` only: `list` and `show` say `signed: true`.
- `test` sends one `subscription.test` CloudEvent straight to the receiver through its channel's
  sink (not through the outbox: nothing is recorded or retried) and reports the receiver's answer.

Exit codes: 0 done; 1 no store to read, or the receiver refused the test event; 2 bad input (an
unknown or removed subscription, an unknown delivery, one that is not dead).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from domain.subscriptions import Channel, Delivery, DeliveryStatus
from runtime.stack_record import StoreSource
from runtime.webhooks import SIGNATURE_HEADER
from starter.cli_common import (
    USER,
    ByOpt,
    JsonOpt,
    choice_metavar,
    choice_parser,
    command_group,
    run_async,
    settings_from,
    short_reason,
)
from starter.cli_governance import StoreDirOpt, store_fields
from starter.cli_intake import audit, with_store
from starter.operations import subscriptions as subscription_ops
from starter.output import ExitCode, print_error, print_field, print_json, print_line
from store import Store
from store.outbox import SubscriptionExists

subscriptions_app = command_group(
    "Event subscriptions: webhooks, the message broker and team channels; their deliveries and dead letters."
)
IdArg = Annotated[str, typer.Argument(metavar="ID", help="The subscription's id, e.g. erp-events.")]
DeliveryIdArg = Annotated[int, typer.Argument(metavar="DELIVERY_ID", help="The delivery's number.")]
LimitOpt = Annotated[int, typer.Option(min=1, max=500, help="At most this many.")]
OffsetOpt = Annotated[int, typer.Option(min=0, help="Skip this many first.")]
WebhookOpt = Annotated[str | None, typer.Option("--webhook", metavar="URL", help="POST the events to this https URL.")]
BrokerOpt = Annotated[bool, typer.Option("--broker", help="Publish the events to the message broker of the settings.")]
TeamOpt = Annotated[str | None, typer.Option("--team", help="A team's notification channel (with --url).")]
UrlOpt = Annotated[str | None, typer.Option("--url", help="The team channel's incoming-webhook URL.")]
TypesOpt = Annotated[str | None, typer.Option("--types", help="Event type patterns: 'supplier.*,item.*'.")]
SecretOpt = Annotated[str | None, typer.Option("--secret", help="A webhook's signing secret (default: generated).")]
CHANNEL_OPTIONS = "--webhook|--broker|--team"
_OPTIONS = {"subscription_id": "ID", "channel": CHANNEL_OPTIONS, "types": "--types", "secret": "--secret",
            "team": "--team", "description": "--description"}  # fmt: skip


def _option(field: str, channel: Channel | None) -> str:
    """The option a field of the request comes from (a webhook's URL is --webhook's value)."""
    if field == "url":
        return "--webhook" if channel is Channel.WEBHOOK else "--url"
    return _OPTIONS.get(field, field)


@subscriptions_app.command("add")
def subscriptions_add(
    ctx: typer.Context,
    subscription_id: IdArg,
    webhook: WebhookOpt = None,
    broker: BrokerOpt = False,
    team: TeamOpt = None,
    url: UrlOpt = None,
    types: TypesOpt = None,
    secret: SecretOpt = None,
    description: Annotated[str | None, typer.Option("--description", help="What it is for.")] = None,
    by: ByOpt = USER,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Add a subscription with exactly one channel. A webhook's secret is printed here once, never
    again; deliveries are signed with it. It receives the events recorded from now on."""
    chosen = [c for c, on in ((Channel.WEBHOOK, webhook is not None), (Channel.BROKER, broker),
                              (Channel.TEAM, team is not None)) if on]  # fmt: skip
    if len(chosen) != 1:
        reason = "give exactly one channel: --webhook URL, --broker, or --team TEAM --url URL"
        return print_error(
            reason, as_json, code=ExitCode.BAD_INPUT, errors=[{"field": CHANNEL_OPTIONS, "reason": reason}]
        )
    channel = chosen[0]
    if channel is Channel.WEBHOOK and url is not None:
        reason = "a webhook's URL is the value of --webhook"
        return print_error(
            f"--url: {reason}", as_json, code=ExitCode.BAD_INPUT, errors=[{"field": "--url", "reason": reason}]
        )
    data: dict[str, Any] = {"subscription_id": subscription_id, "channel": channel, "url": webhook or url,
                            "team": team, "secret": secret, "description": description}  # fmt: skip
    if types is not None:
        data["types"] = [t for t in types.replace(",", " ").split() if t]
    try:
        request = subscription_ops.subscription_request({k: v for k, v in data.items() if v is not None})
    except subscription_ops.SubscriptionInvalid as invalid:
        errors = [{"field": _option(e["field"].split(".")[0], channel), "reason": e["reason"]} for e in invalid.errors]
        return print_error(f"the subscription is not valid ({len(errors)} problem(s))", as_json,
                           code=ExitCode.BAD_INPUT, errors=errors)  # fmt: skip

    def work(store: Store, source: StoreSource) -> int:
        try:
            saved = store.outbox.add_subscription(subscription_ops.new_subscription(request, by))
        except SubscriptionExists as taken:
            return print_error(str(taken), as_json, code=ExitCode.BAD_INPUT,
                               errors=[{"field": "ID", "reason": "is taken (also by a removed one)"}])  # fmt: skip
        audit(store, by, "subscription.added", ("subscription", saved.subscription_id), "added",
              **subscription_ops.audit_details(saved))  # fmt: skip
        answer = subscription_ops.added(saved)
        if as_json:
            print_json({"ok": True, **store_fields(source), **answer.model_dump(mode="json")})
            return ExitCode.OK
        print_line(f"added subscription {saved.subscription_id} ({saved.channel.value})")
        if answer.secret:  # plain print: copied, so never wrapped, cut or styled
            print(f"signing secret (shown once; the receiver checks {SIGNATURE_HEADER} with it):")
            print(answer.secret)
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


@subscriptions_app.command("list")
def subscriptions_list(
    ctx: typer.Context,
    every: Annotated[bool, typer.Option("--all", help="Also the removed ones.")] = False,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """The subscriptions, oldest first (never their secrets)."""

    def work(store: Store, source: StoreSource) -> int:
        found = [subscription_ops.SubscriptionView.of(s) for s in store.outbox.subscriptions(include_removed=every)]
        if as_json:
            print_json(
                {"ok": True, **store_fields(source), "subscriptions": [s.model_dump(mode="json") for s in found]}
            )
        for s in [] if as_json else found:
            receives = f"team {s.team}" if s.channel is Channel.TEAM else ",".join(s.types)
            state = "active" if s.active else "removed"
            print_line(f"{s.subscription_id:24} {s.channel.value:8} {state:8} {receives} {s.url or ''}".rstrip())
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


@subscriptions_app.command("show")
def subscriptions_show(
    ctx: typer.Context, subscription_id: IdArg, state_dir: StoreDirOpt = None, as_json: JsonOpt = False
) -> int:
    """One subscription, with how many of its deliveries are in each status."""

    def work(store: Store, source: StoreSource) -> int:
        try:
            found = subscription_ops.detail(store.outbox, subscription_id)
        except LookupError as missing:
            return print_error(f"{missing} in that store", as_json, code=ExitCode.BAD_INPUT)
        if as_json:
            print_json({"ok": True, **store_fields(source), **found.model_dump(mode="json")})
            return ExitCode.OK
        for label, value in found.subscription.model_dump(mode="json").items():
            shown = ", ".join(value) if isinstance(value, list) else "-" if value in (None, "") else str(value)
            print_field(label.replace("_", " "), shown)
        print_field("deliveries", ", ".join(f"{n} {status.value}" for status, n in found.deliveries.items()))
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


@subscriptions_app.command("remove")
def subscriptions_remove(
    ctx: typer.Context,
    subscription_id: IdArg,
    by: ByOpt = USER,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Deactivate a subscription: it gets no new deliveries, and its pending ones are cancelled."""

    def work(store: Store, source: StoreSource) -> int:
        try:
            removed = subscription_ops.remove(store.outbox, subscription_id)
        except (LookupError, ValueError) as refused:
            return print_error(str(refused), as_json, code=ExitCode.BAD_INPUT)
        audit(
            store, by, "subscription.removed", ("subscription", subscription_id), "removed", cancelled=removed.cancelled
        )
        if as_json:
            print_json({"ok": True, **store_fields(source), **removed.model_dump(mode="json")})
        else:
            print_line(f"removed subscription {subscription_id}; {removed.cancelled} pending deliveries cancelled")
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


@subscriptions_app.command("test")
def subscriptions_test(
    ctx: typer.Context,
    subscription_id: IdArg,
    by: ByOpt = USER,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Send one subscription.test event straight to the receiver (not through the outbox) and
    report its answer; exit 1 when it did not take it."""
    settings = settings_from(ctx, state_dir=state_dir)

    def work(store: Store, source: StoreSource) -> int:
        try:
            subscription = subscription_ops.active(store.outbox, subscription_id)
        except (LookupError, ValueError) as refused:
            return print_error(str(refused), as_json, code=ExitCode.BAD_INPUT)

        async def main() -> int:
            async with subscription_ops.settings_sinks(settings) as sinks:
                answer = await subscription_ops.send_test_event(subscription, sinks, settings, by)
            audit(store, by, "subscription.tested", ("subscription", subscription_id), "ok" if answer.ok else "failed",
                  event_id=answer.event_id, error=answer.error)  # fmt: skip
            return report_test(answer, as_json, source)

        return run_async(main, as_json)

    return with_store(ctx, state_dir, as_json, work)


DeliveryStatusOpt = Annotated[
    DeliveryStatus | None,
    typer.Option("--status", metavar=choice_metavar(DeliveryStatus), parser=choice_parser(DeliveryStatus),
                 help="Only the deliveries with this status."),
]  # fmt: skip


@subscriptions_app.command("deliveries")
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


@subscriptions_app.command("dead-letters")
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


@subscriptions_app.command("replay")
def subscriptions_replay(
    ctx: typer.Context,
    delivery_id: DeliveryIdArg,
    by: ByOpt = USER,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Deliver a dead delivery again, in its turn (before the subscription's pending ones)."""

    return close_dead(ctx, delivery_id, by, state_dir, as_json, "replayed")


@subscriptions_app.command("discard")
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


def report_test(answer: subscription_ops.ReceiverAnswer, as_json: bool, source: StoreSource) -> ExitCode:
    """Exit 0 when the receiver took the test event, 1 with its reason when it did not."""
    if not answer.ok:
        return print_error(f"the receiver did not take the test event: {answer.error}", as_json,
                           code=ExitCode.PLATFORM_ERROR, **store_fields(source),
                           **answer.model_dump(mode="json", exclude={"ok", "error"}))  # fmt: skip
    if as_json:
        print_json({"ok": True, **store_fields(source), **answer.model_dump(mode="json", exclude_none=True)})
    else:
        print_line(f"ok: the receiver took test event {answer.event_id}")
    return ExitCode.OK


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
