"""Alerts in the store (`store.alerts`, table `alerts`): what the alert evaluation raised, re-notified
and resolved; the system probes it made (`alert_system_checks`); and the counts it reads from the
other records (open dead letters, each entity's latest sync accuracy).

Decisions:
- One open alert per rule and subject, enforced by the database: `open_key` is
  `<rule>|<subject>` while the alert is open and NULL once resolved, under a unique constraint
  (NULLs never collide, on SQLite and PostgreSQL alike). Two evaluations racing cannot both
  raise it: the later insert sees the open alert and is skipped, or (when both checked at once)
  fails on the constraint, and its retried activity finds the alert open.
- `apply` writes a whole plan in one transaction and marks each alert it raised, re-notified or
  resolved with the evaluation's id (`last_change_by`). It returns those alerts, also the ones an
  earlier attempt of the same evaluation changed: a retried activity reports the same notices,
  and the workflow publishes each once (its event id is the alert's id and notice number).
- A re-notice is guarded in SQL (`last_notified_at` older than the interval), so a late plan
  never announces an alert twice within the interval.
- Probes older than `CHECKS_KEPT` are deleted when new ones are recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.schema import UniqueConstraint

from domain.alert_facts import AlertKind, DeadLetterCounts, SyncAccuracy, SystemCall
from domain.alerts import Alert, AlertChange, AlertNotice, AlertPlan, AlertStatus, NewAlert, OpenAlert, Severity
from domain.intake import DeadLetterStatus
from domain.master_data.summary import SyncSummary
from domain.subscriptions import DeliveryStatus
from store.models import (
    Base,
    EventDeliveryRow,
    Identifier,
    IntakeDeadLetterRow,
    MasterDataSyncRow,
    UTCDateTime,
)

if TYPE_CHECKING:
    from store.repository import Store

CHECKS_KEPT = timedelta(days=1)
SUMMARY_LIMIT = 2000


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("open_key", name="uq_alerts_open_key"),
        Index("ix_alerts_status_opened_at", "status", "opened_at"),
        Index("ix_alerts_last_change_by", "last_change_by"),
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    severity: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # open | resolved
    open_key: Mapped[str | None] = mapped_column(String(330))  # <rule>|<subject> while open, else NULL
    summary: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_notified_at: Mapped[datetime] = mapped_column(UTCDateTime())
    notices: Mapped[int] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_change: Mapped[str] = mapped_column(String(16))  # raised | renotified | resolved
    last_change_by: Mapped[str] = mapped_column(String(255))  # the evaluation that made it


class SystemCheckRow(Base):
    """One probe of an external system by the alert evaluation."""

    __tablename__ = "alert_system_checks"
    __table_args__ = (Index("ix_alert_system_checks_at", "at"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    system: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)


class AlertRecords:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @classmethod
    def of(cls, store: Store) -> AlertRecords:
        """The alert records of an open `Store` (its `alerts`, once the store carries them)."""
        found = getattr(store, "alerts", None)
        return found if isinstance(found, AlertRecords) else cls(store._sessions)

    # The alerts ---------------------------------------------------------------------------------

    def open_alerts(self) -> list[OpenAlert]:
        query = select(AlertRow).where(AlertRow.status == AlertStatus.OPEN.value).order_by(AlertRow.id)
        with self._sessions() as session:
            return [
                OpenAlert(alert_id=r.id, rule_id=r.rule_id, subject=r.subject, last_notified_at=r.last_notified_at)
                for r in session.scalars(query)
            ]

    def alerts(self, *, include_resolved: bool = False, limit: int = 100) -> list[Alert]:
        """Open alerts (`include_resolved`: all), newest first."""
        query = select(AlertRow).order_by(AlertRow.opened_at.desc(), AlertRow.id.desc()).limit(max(1, limit))
        if not include_resolved:
            query = query.where(AlertRow.status == AlertStatus.OPEN.value)
        with self._sessions() as session:
            return [_alert(row) for row in session.scalars(query)]

    def get(self, alert_id: int) -> Alert | None:
        with self._sessions() as session:
            row = session.get(AlertRow, alert_id)
            return None if row is None else _alert(row)

    def apply(self, plan: AlertPlan, evaluation_id: str, now: datetime, renotify_after: timedelta) -> list[AlertNotice]:
        """Write the plan (one transaction) and return the notices of this evaluation."""
        with self._sessions.begin() as session:
            for new in plan.raised:
                self._raise(session, new, evaluation_id, now)
            open_now = AlertRow.status == AlertStatus.OPEN.value
            for change in plan.refreshed:
                session.execute(
                    update(AlertRow)
                    .where(AlertRow.id == change.alert_id, open_now)
                    .values(value=change.value, summary=change.summary[:SUMMARY_LIMIT], last_seen_at=now)
                )
            for change in plan.renotified:
                session.execute(
                    update(AlertRow)
                    .where(AlertRow.id == change.alert_id, open_now, AlertRow.last_notified_at <= now - renotify_after)
                    .values(value=change.value, summary=change.summary[:SUMMARY_LIMIT], last_seen_at=now,
                            last_notified_at=now, notices=AlertRow.notices + 1,
                            last_change=AlertChange.RENOTIFIED.value, last_change_by=evaluation_id)
                )  # fmt: skip
            for change in plan.resolved:
                values = {"summary": change.summary[:SUMMARY_LIMIT], "last_seen_at": now}
                if change.value is not None:
                    values["value"] = change.value
                session.execute(
                    update(AlertRow)
                    .where(AlertRow.id == change.alert_id, open_now)
                    .values(**values, status=AlertStatus.RESOLVED.value, open_key=None, resolved_at=now,
                            notices=AlertRow.notices + 1, last_change=AlertChange.RESOLVED.value,
                            last_change_by=evaluation_id)
                )  # fmt: skip
        return self.notices_of(evaluation_id)

    def _raise(self, session: Session, new: NewAlert, evaluation_id: str, now: datetime) -> None:
        key = open_key(new.rule.id, new.measurement.subject)
        if session.scalar(select(func.count()).where(AlertRow.open_key == key)):
            return  # another evaluation raised it meanwhile: one open alert per rule and subject
        m = new.measurement
        session.add(
            AlertRow(rule_id=new.rule.id, kind=new.rule.kind.value, subject=m.subject[:255],
                     severity=new.rule.severity.value, team=new.rule.team, status=AlertStatus.OPEN.value,
                     open_key=key, summary=m.summary[:SUMMARY_LIMIT], value=m.value, threshold=new.rule.threshold,
                     opened_at=now, last_seen_at=now, last_notified_at=now, notices=1,
                     last_change=AlertChange.RAISED.value, last_change_by=evaluation_id)
        )  # fmt: skip
        session.flush()

    def notices_of(self, evaluation_id: str) -> list[AlertNotice]:
        """The alerts this evaluation raised, re-notified or resolved, in that order of ids."""
        query = select(AlertRow).where(AlertRow.last_change_by == evaluation_id).order_by(AlertRow.id)
        with self._sessions() as session:
            return [
                AlertNotice(change=AlertChange(row.last_change), alert=_alert(row)) for row in session.scalars(query)
            ]

    def open_count(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).where(AlertRow.status == AlertStatus.OPEN.value)) or 0)

    # What the rules read ------------------------------------------------------------------------

    def record_checks(self, checks: Sequence[SystemCall], now: datetime) -> None:
        """Keep the probes just made; forget those older than CHECKS_KEPT."""
        with self._sessions.begin() as session:
            session.add_all(SystemCheckRow(system=c.system, at=c.at, ok=c.ok, error=c.error) for c in checks)
            session.execute(delete(SystemCheckRow).where(SystemCheckRow.at < now - CHECKS_KEPT))

    def checks_since(self, since: datetime) -> list[SystemCall]:
        query = select(SystemCheckRow).where(SystemCheckRow.at >= since).order_by(SystemCheckRow.at)
        with self._sessions() as session:
            return [SystemCall(system=r.system, at=r.at, ok=r.ok, error=r.error) for r in session.scalars(query)]

    def dead_letters(self) -> DeadLetterCounts:
        intake = select(func.count()).where(IntakeDeadLetterRow.status == DeadLetterStatus.OPEN.value)
        deliveries = select(func.count()).where(EventDeliveryRow.status == DeliveryStatus.DEAD.value)
        with self._sessions() as session:
            return DeadLetterCounts(intake=session.scalar(intake) or 0, deliveries=session.scalar(deliveries) or 0)

    def sync_accuracy(self, recent: int = 200) -> list[SyncAccuracy]:
        """Each entity's latest finished sync (among the `recent` last started)."""
        query = (
            select(MasterDataSyncRow)
            .where(MasterDataSyncRow.finished_at.is_not(None), MasterDataSyncRow.summary.is_not(None))
            .order_by(MasterDataSyncRow.started_at.desc())
            .limit(recent)
        )
        latest: dict[str, SyncAccuracy] = {}
        with self._sessions() as session:
            for row in session.scalars(query):
                if row.entity in latest or row.finished_at is None or row.summary is None:
                    continue
                accuracy = SyncSummary.model_validate(row.summary).accuracy
                latest[row.entity] = SyncAccuracy(entity=row.entity, accuracy=accuracy, sync_id=row.sync_id,
                                                  finished_at=row.finished_at)  # fmt: skip
        return [latest[entity] for entity in sorted(latest)]


def open_key(rule_id: str, subject: str) -> str:
    return f"{rule_id}|{subject}"[:330]


def _alert(row: AlertRow) -> Alert:
    return Alert(
        alert_id=row.id,
        rule_id=row.rule_id,
        kind=AlertKind(row.kind),
        subject=row.subject,
        severity=Severity(row.severity),
        team=row.team,
        status=AlertStatus(row.status),
        summary=row.summary,
        value=row.value,
        threshold=row.threshold,
        opened_at=row.opened_at,
        last_seen_at=row.last_seen_at,
        last_notified_at=row.last_notified_at,
        notices=row.notices,
        resolved_at=row.resolved_at,
    )
