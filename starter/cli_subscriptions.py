"""`supplybridge subscriptions add|list|show|remove|test|deliveries|dead-letters|replay|discard`
(mounted by starter/cli.py): who receives the platform's business events, as CloudEvents, and
what became of their deliveries (those four commands live in starter/cli_deliveries.py;
starter/operations/subscriptions.py; domain/subscriptions.py).

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

from typing import Annotated, Any

import typer

from domain.subscriptions import Channel
from runtime.stack_record import StoreSource
from runtime.webhooks import SIGNATURE_HEADER
from starter import cli_deliveries as deliveries
from starter.cli_common import (
    USER,
    ByOpt,
    JsonOpt,
    command_group,
    run_async,
    settings_from,
)
from starter.cli_deliveries import IdArg
from starter.cli_governance import StoreDirOpt, store_fields
from starter.cli_intake import audit, with_store
from starter.operations import subscriptions as subscription_ops
from starter.output import ExitCode, print_error, print_field, print_json, print_line
from store import Store
from store.outbox import SubscriptionExists

subscriptions_app = command_group(
    "Event subscriptions: webhooks, the message broker and team channels; their deliveries and dead letters."
)
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


# What became of the deliveries: starter/cli_deliveries.py
subscriptions_app.command("deliveries")(deliveries.subscriptions_deliveries)
subscriptions_app.command("dead-letters")(deliveries.subscriptions_dead_letters)
subscriptions_app.command("replay")(deliveries.subscriptions_replay)
subscriptions_app.command("discard")(deliveries.subscriptions_discard)
