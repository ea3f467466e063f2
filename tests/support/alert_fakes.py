"""Fakes of the alert evaluation's ports (activities/alerts.py): what Temporal knows of the runs,
a system to probe that is up or down, and an in-memory alert store (for the composition root's
wiring; the alert tests use the real store, store/alerts.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from adapters.errors import NotFoundError, TransientError
from domain.alert_facts import DeadLetterCounts, FailedRun, SyncAccuracy, SystemCall
from domain.alerts import Alert, AlertChange, AlertNotice, AlertPlan, AlertStatus, OpenAlert


@dataclass
class FakeRuns:
    """`RunsPort`: runs escalated per team, runs retrying a system, failed runs; `down` fails every read."""

    escalations: dict[str, list[str]] = field(default_factory=dict)
    retrying: list[SystemCall] = field(default_factory=list)
    failed: list[FailedRun] = field(default_factory=list)
    down: bool = False

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("Temporal unreachable")

    async def escalated(self) -> dict[str, list[str]]:
        self._check()
        return {team: list(runs) for team, runs in self.escalations.items()}

    async def retrying_calls(self) -> list[SystemCall]:
        self._check()
        return list(self.retrying)

    async def failed_runs(self, since: datetime) -> list[FailedRun]:
        self._check()
        return [run for run in self.failed if run.closed_at >= since]


@dataclass
class FakeSystem:
    """`ProbeTarget`: answers 404 for its base URL (an answer) unless `down` (a 503)."""

    system: str
    down: bool = False
    probes: int = 0

    async def request(self, method: str, path: str) -> Any:
        self.probes += 1
        if self.down:
            raise TransientError(self.system, f"{method} {path} answered 503: outage", status=503)
        raise NotFoundError(self.system, f"{method} {path} answered 404")


@dataclass
class FakeAlertStore:
    """`AlertStorePort` in memory."""

    alerts: dict[int, Alert] = field(default_factory=dict)
    changed_by: dict[int, tuple[str, AlertChange]] = field(default_factory=dict)
    checks: list[SystemCall] = field(default_factory=list)
    counts: DeadLetterCounts = field(default_factory=DeadLetterCounts)
    syncs: list[SyncAccuracy] = field(default_factory=list)

    def open_alerts(self) -> list[OpenAlert]:
        return [
            OpenAlert(alert_id=a.alert_id, rule_id=a.rule_id, subject=a.subject, last_notified_at=a.last_notified_at)
            for a in self.alerts.values()
            if a.status is AlertStatus.OPEN
        ]

    def apply(self, plan: AlertPlan, evaluation_id: str, now: datetime, renotify_after: timedelta) -> list[AlertNotice]:
        opened = {(a.rule_id, a.subject) for a in self.alerts.values() if a.status is AlertStatus.OPEN}
        for new in plan.raised:
            if (new.rule.id, new.measurement.subject) in opened:
                continue
            alert_id = len(self.alerts) + 1
            self.alerts[alert_id] = Alert(
                alert_id=alert_id, rule_id=new.rule.id, kind=new.rule.kind, subject=new.measurement.subject,
                severity=new.rule.severity, team=new.rule.team, status=AlertStatus.OPEN,
                summary=new.measurement.summary, value=new.measurement.value, threshold=new.rule.threshold,
                opened_at=now, last_seen_at=now, last_notified_at=now, notices=1,
            )  # fmt: skip
            self.changed_by[alert_id] = (evaluation_id, AlertChange.RAISED)
        for update in plan.renotified:
            alert = self.alerts[update.alert_id]
            if alert.status is AlertStatus.OPEN and now - alert.last_notified_at >= renotify_after:
                self.alerts[update.alert_id] = alert.model_copy(
                    update={"summary": update.summary, "last_notified_at": now, "notices": alert.notices + 1}
                )
                self.changed_by[update.alert_id] = (evaluation_id, AlertChange.RENOTIFIED)
        for update in plan.resolved:
            alert = self.alerts[update.alert_id]
            if alert.status is AlertStatus.OPEN:
                self.alerts[update.alert_id] = alert.model_copy(
                    update={"summary": update.summary, "status": AlertStatus.RESOLVED, "resolved_at": now,
                            "notices": alert.notices + 1}
                )  # fmt: skip
                self.changed_by[update.alert_id] = (evaluation_id, AlertChange.RESOLVED)
        return [
            AlertNotice(change=change, alert=self.alerts[alert_id])
            for alert_id, (by, change) in sorted(self.changed_by.items())
            if by == evaluation_id
        ]

    def open_count(self) -> int:
        return len(self.open_alerts())

    def record_checks(self, checks: Sequence[SystemCall], now: datetime) -> None:
        self.checks.extend(checks)

    def checks_since(self, since: datetime) -> list[SystemCall]:
        return [c for c in self.checks if c.at >= since]

    def dead_letters(self) -> DeadLetterCounts:
        return self.counts

    def sync_accuracy(self) -> list[SyncAccuracy]:
        return list(self.syncs)
