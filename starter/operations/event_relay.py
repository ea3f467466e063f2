"""Keeping event delivery running: the `event-relay` workflow and the standing subscriptions.

- `ensure_event_relay` starts `event-relay` unless it runs (USE_EXISTING: a second worker or a
  second `up` joins the running one). `supplybridge up` and `supplybridge worker` call it.
- `ensure_standing_subscriptions` makes the subscriptions the settings imply: one team channel
  `team-<team>` per `SUPPLYBRIDGE_TEAM_NOTIFICATION_URLS` entry (a team no longer configured has its
  channel removed), `team-operations` for `SUPPLYBRIDGE_ALERT_WEBHOOK_URL` (the alerts' team: it
  takes the place of an `operations` entry of the team URLs), and, when the sandbox runs,
  `sandbox-analytics` (the sandbox analytics platform receives supplier, item and master-data
  events, signed with the shared webhook secret). These are written with `created_by: settings`;
  subscriptions people add are never touched.
"""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from activities.event_relay import RelayInput
from domain.alerts import OPERATIONS_TEAM
from domain.subscriptions import Channel, Subscription
from runtime.settings import Settings
from store import Store
from workflows.event_relay import RELAY_WORKFLOW_ID, EventRelayWorkflow

SETTINGS_AUTHOR = "settings"
ANALYTICS_SUBSCRIPTION = "sandbox-analytics"
ANALYTICS_TYPES = ["supplier.*", "item.*", "master_data.*"]


async def ensure_event_relay(client: Client, settings: Settings) -> str:
    """The relay's run id (the running one, or the one just started)."""
    handle = await client.start_workflow(
        EventRelayWorkflow.run,
        RelayInput(),
        id=RELAY_WORKFLOW_ID,
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    return handle.result_run_id or ""


def standing_subscriptions(settings: Settings, *, sandbox_analytics_url: str | None) -> list[Subscription]:
    now = datetime.now(UTC)
    teams = dict(settings.team_notification_urls)
    if settings.alert_webhook_url:
        teams[OPERATIONS_TEAM] = settings.alert_webhook_url  # the alerts (workflows/alerts.py) go to operations
    standing = [
        Subscription(subscription_id=f"team-{team.replace('_', '-')}", channel=Channel.TEAM, team=team, url=url,
                     description=f"notifications of {team}", created_by=SETTINGS_AUTHOR, created_at=now)
        for team, url in sorted(teams.items())
    ]  # fmt: skip
    if sandbox_analytics_url is not None:
        standing.append(
            Subscription(subscription_id=ANALYTICS_SUBSCRIPTION, channel=Channel.WEBHOOK, types=ANALYTICS_TYPES,
                         url=sandbox_analytics_url, secret=settings.webhook_secret.get_secret_value(),
                         description="the sandbox analytics platform", created_by=SETTINGS_AUTHOR, created_at=now)
        )  # fmt: skip
    return standing


def ensure_standing_subscriptions(store: Store, settings: Settings, *, sandbox_analytics_url: str | None) -> list[str]:
    """The ids of the standing subscriptions, now current in `store`."""
    wanted = {
        s.subscription_id: s for s in standing_subscriptions(settings, sandbox_analytics_url=sandbox_analytics_url)
    }
    for existing in store.outbox.subscriptions():
        if existing.created_by == SETTINGS_AUTHOR and existing.subscription_id not in wanted:
            store.outbox.remove_subscription(existing.subscription_id)
    for subscription in wanted.values():
        current = store.outbox.subscription(subscription.subscription_id)
        if current is not None and current.created_by != SETTINGS_AUTHOR:
            continue  # a person made one of that id: theirs stands
        if current is not None and current.active:
            subscription = subscription.model_copy(update={"created_at": current.created_at})
        store.outbox.put_subscription(subscription)
    return sorted(wanted)
