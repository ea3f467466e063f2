"""Alerts in the store (store/alerts.py): one open alert per rule and subject however often a plan is
applied, an evaluation retried reports the same notices, a re-notice is guarded by the interval, and
the counts the rules read (open dead letters, each entity's latest sync accuracy, probes kept)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from domain.alert_facts import AlertKind, Measurement, SystemCall
from domain.alerts import AlertChange, AlertPlan, AlertRule, AlertStatus, AlertUpdate, NewAlert
from domain.events import BusinessEvent
from domain.intake import IntakeDeadLetter
from domain.master_data.summary import SyncSummary
from domain.subscriptions import Channel, Subscription
from store import Store
from store.alerts import CHECKS_KEPT, AlertRecords, AlertRow

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
FAILING = AlertRule(id="system-failing", kind=AlertKind.SYSTEM_FAILING, threshold=0.5)


def raised(subject: str = "erp", summary: str = "erp: 3 of 3 calls failed") -> AlertPlan:
    return AlertPlan(raised=[NewAlert(rule=FAILING, measurement=Measurement(subject=subject, value=1.0, breached=True,
                                                                            summary=summary))])  # fmt: skip


def test_a_plan_applied_twice_or_retried_keeps_one_open_alert_and_reports_the_same_notice(store: Store) -> None:
    alerts = AlertRecords.of(store)
    [first] = alerts.apply(raised(), "eval-1", NOW, HOUR)
    assert first.change is AlertChange.RAISED and first.event_key == f"alert-{first.alert.alert_id}-1"
    assert first.event_subject == "system-failing/erp" and first.alert.team == "operations"
    assert alerts.apply(raised(), "eval-1", NOW, HOUR) == [first]  # the same evaluation, retried
    assert alerts.apply(raised(), "eval-2", NOW, HOUR) == []  # a racing one: nothing new
    assert [(a.rule_id, a.subject) for a in alerts.open_alerts()] == [("system-failing", "erp")]
    assert alerts.open_count() == 1


def test_the_database_refuses_a_second_open_alert_for_one_rule_and_subject(store: Store) -> None:
    alerts = AlertRecords.of(store)
    alerts.apply(raised(), "eval-1", NOW, HOUR)
    with pytest.raises(IntegrityError), store._sessions.begin() as session:  # what a racing insert meets
        session.add(AlertRow(rule_id="system-failing", kind="system_failing", subject="erp", severity="critical",
                             team="operations", status="open", open_key="system-failing|erp", summary="", threshold=0,
                             opened_at=NOW, last_seen_at=NOW, last_notified_at=NOW, notices=1, last_change="raised",
                             last_change_by="eval-x"))  # fmt: skip


def test_renotify_waits_for_the_interval_and_a_resolved_alert_can_be_raised_again(store: Store) -> None:
    alerts = AlertRecords.of(store)
    [notice] = alerts.apply(raised(), "eval-1", NOW, HOUR)
    alert_id = notice.alert.alert_id
    again = AlertPlan(renotified=[AlertUpdate(alert_id=alert_id, value=0.9, summary="erp: still failing")])
    assert alerts.apply(again, "eval-2", NOW + timedelta(minutes=30), HOUR) == []  # too soon: only a late plan
    [renotified] = alerts.apply(again, "eval-3", NOW + HOUR, HOUR)
    assert renotified.change is AlertChange.RENOTIFIED and renotified.alert.notices == 2
    assert renotified.event_key == f"alert-{alert_id}-2" and renotified.alert.summary == "erp: still failing"

    cleared = AlertPlan(resolved=[AlertUpdate(alert_id=alert_id, value=0.0, summary="erp: 0 of 2 calls failed")])
    [resolved] = alerts.apply(cleared, "eval-4", NOW + 2 * HOUR, HOUR)
    assert resolved.change is AlertChange.RESOLVED and resolved.alert.status is AlertStatus.RESOLVED
    assert resolved.alert.resolved_at == NOW + 2 * HOUR and resolved.alert.notices == 3
    assert alerts.apply(cleared, "eval-5", NOW + 3 * HOUR, HOUR) == []  # resolved once

    [reopened] = alerts.apply(raised(), "eval-6", NOW + 4 * HOUR, HOUR)
    assert reopened.alert.alert_id != alert_id
    assert [a.alert_id for a in alerts.alerts()] == [reopened.alert.alert_id]
    assert [a.alert_id for a in alerts.alerts(include_resolved=True)] == [reopened.alert.alert_id, alert_id]
    assert alerts.get(alert_id) == resolved.alert and alerts.get(999) is None


def test_the_records_the_rules_read(store: Store) -> None:
    alerts = AlertRecords.of(store)
    store.intake.add_dead_letter(IntakeDeadLetter(file_id="f1", file_name="a.csv", kind="csv_row", position="line 2",
                                                  reason="bad", raw="x"))  # fmt: skip
    store.outbox.add_subscription(Subscription(subscription_id="hook", channel=Channel.WEBHOOK, types=["*"],
                                               url="https://r.example/e", created_by="t", created_at=NOW))  # fmt: skip
    store.append_event(BusinessEvent(event_id="e1", type="supplier.onboarded", subject="V-1", occurred_at=NOW, data={}))
    [delivery] = store.outbox.deliveries()
    store.outbox.failed(delivery.delivery_id, "503", NOW, timedelta(0))
    counts = alerts.dead_letters()
    assert (counts.intake, counts.deliveries, counts.total) == (1, 1, 2)

    for sync_id, entity, in_sync in [("s-old", "suppliers", 1), ("s-new", "suppliers", 3), ("i-1", "items", 4)]:
        store.syncs.save_plan(sync_id, entity, False, [])
        store.syncs.finish(sync_id, SyncSummary(entity=entity, matched=4, in_sync=in_sync))
    store.syncs.save_plan("s-running", "suppliers", False, [])  # not finished: not read
    assert [(s.entity, s.sync_id, s.accuracy) for s in alerts.sync_accuracy()] == [
        ("items", "i-1", 1.0),
        ("suppliers", "s-new", 0.75),
    ]

    old = SystemCall(system="erp", at=NOW - CHECKS_KEPT - HOUR, ok=True)
    alerts.record_checks([old], NOW - CHECKS_KEPT)
    alerts.record_checks([SystemCall(system="erp", at=NOW, ok=False, error="erp unavailable")], NOW)
    assert [(c.system, c.ok, c.error) for c in alerts.checks_since(NOW - 2 * CHECKS_KEPT)] == [
        ("erp", False, "erp unavailable")
    ]
