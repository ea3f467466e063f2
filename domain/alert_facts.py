"""What the alert rules look at (`AlertFacts`, gathered by activities/alerts.py) and how each kind of
rule measures it (`measure`: one `Measurement` per subject, breached or not). Pure.

Decisions:
- A field of `AlertFacts` that is None was not gathered this time: the kinds that read it are
  not measured, so their alerts are neither raised nor resolved (domain/alerts.py).
- `system_failing` counts calls within the rule's window: each probe of a system (ok or not) and
  each run whose activity is retrying a transient failure of that system (a failed call, timed at
  its last failure). The share failed is the measure; the summary names the system, how many
  runs wait on it and the last error, on one line.
- Summaries are one line, and long digit runs (an account or routing number, a tax id) are
  masked in them, should an error message ever carry one.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field

from domain.base import DomainModel

SYSTEM_SUBJECT_LIMIT = 3  # workflow ids named in a summary
DEAD_LETTERS_SUBJECT = "dead-letters"
_SENSITIVE_DIGITS = re.compile(r"\d{3}-\d{2}-\d{4}|\d{2}-\d{7}|\d{8,}")
# activities/errors.py: a system's transient failure is an ApplicationError of type `<system>.transient`
_TRANSIENT_TYPE = re.compile(r"^([a-z][a-z0-9_]*)\.transient$")


class AlertKind(StrEnum):
    SLA_BREACHED = "sla_breached"
    DEAD_LETTERS_ABOVE = "dead_letters_above"
    SYNC_ACCURACY_BELOW = "sync_accuracy_below"
    SYSTEM_FAILING = "system_failing"
    RUN_FAILED = "run_failed"


class SystemCall(DomainModel):
    """One call to an external system: a probe (`workflow_id` None) or a run retrying one."""

    system: str = Field(min_length=1, max_length=64)
    at: datetime
    ok: bool
    error: str | None = None
    workflow_id: str | None = Field(default=None, description="the run whose activity retries it")


class FailedRun(DomainModel):
    workflow_id: str
    workflow_type: str | None = None
    closed_at: datetime
    error: str = ""


class SyncAccuracy(DomainModel):
    entity: str
    accuracy: float = Field(ge=0, le=1)
    sync_id: str
    finished_at: datetime


class DeadLetterCounts(DomainModel):
    intake: int = Field(default=0, ge=0, description="intake records dead-lettered and still open")
    deliveries: int = Field(default=0, ge=0, description="event deliveries dead (not replayed or discarded)")

    @property
    def total(self) -> int:
        return self.intake + self.deliveries


class AlertFacts(DomainModel):
    """The platform's state as the rules see it; None: not gathered this time."""

    escalated: dict[str, list[str]] | None = Field(
        default=None, description="team -> the running runs escalated to its managers (past their SLA)"
    )
    dead_letters: DeadLetterCounts | None = None
    syncs: list[SyncAccuracy] | None = Field(default=None, description="each entity's latest finished sync")
    calls: list[SystemCall] | None = None
    failed_runs: list[FailedRun] | None = Field(default=None, description="runs whose latest execution failed")


class Measurement(DomainModel):
    subject: str = Field(min_length=1)
    value: float
    breached: bool
    summary: str


def measure(
    kind: AlertKind, threshold: float, window: timedelta, facts: AlertFacts, now: datetime
) -> list[Measurement] | None:
    """One measurement per subject the facts show for this kind of rule; None when the facts it
    reads were not gathered."""
    if kind is AlertKind.SLA_BREACHED:
        return None if facts.escalated is None else _sla(facts.escalated, threshold)
    if kind is AlertKind.DEAD_LETTERS_ABOVE:
        return None if facts.dead_letters is None else [_dead_letters(facts.dead_letters, threshold)]
    if kind is AlertKind.SYNC_ACCURACY_BELOW:
        return None if facts.syncs is None else [_sync(sync, threshold) for sync in _latest(facts.syncs)]
    if kind is AlertKind.SYSTEM_FAILING:
        return None if facts.calls is None else _systems(facts.calls, threshold, now - window)
    return None if facts.failed_runs is None else _failed(facts.failed_runs, now - window)


def failing_system(failure_type: str) -> str | None:
    """The system a retried activity failure names (`erp.transient` -> `erp`); None for others
    (a business refusal is not retried, a timeout names no system)."""
    found = _TRANSIENT_TYPE.match(failure_type)
    return found.group(1) if found else None


def scrub(text: str, limit: int = 500) -> str:
    """One line, long digit runs masked, at most `limit` characters."""
    line = _SENSITIVE_DIGITS.sub("•••", re.sub(r"\s+", " ", text).strip())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _named(ids: list[str]) -> str:
    shown = ", ".join(sorted(ids)[:SYSTEM_SUBJECT_LIMIT])
    more = len(ids) - SYSTEM_SUBJECT_LIMIT
    return shown + (f" and {more} more" if more > 0 else "")


def _sla(escalated: dict[str, list[str]], threshold: float) -> list[Measurement]:
    found = []
    for team, runs in sorted(escalated.items()):
        n = len(set(runs))
        what = "1 decision past its SLA" if n == 1 else f"{n} decisions past their SLA"
        summary = f"{team}: {what} (escalated to {team}-managers)" + (f": {_named(list(set(runs)))}" if n else "")
        found.append(Measurement(subject=team, value=n, breached=n > threshold, summary=scrub(summary)))
    return found


def _dead_letters(counts: DeadLetterCounts, threshold: float) -> Measurement:
    summary = (f"{counts.total} dead letters open: {counts.intake} intake records, {counts.deliveries} event "
               f"deliveries (alert above {threshold:g})")  # fmt: skip
    return Measurement(subject=DEAD_LETTERS_SUBJECT, value=counts.total, breached=counts.total > threshold,
                       summary=summary)  # fmt: skip


def _latest(syncs: list[SyncAccuracy]) -> list[SyncAccuracy]:
    latest: dict[str, SyncAccuracy] = {}
    for sync in syncs:
        if sync.entity not in latest or sync.finished_at > latest[sync.entity].finished_at:
            latest[sync.entity] = sync
    return [latest[entity] for entity in sorted(latest)]


def _sync(sync: SyncAccuracy, threshold: float) -> Measurement:
    summary = f"{sync.entity} sync accuracy {sync.accuracy:.1%} (alert below {threshold:.1%}) in {sync.sync_id}"
    return Measurement(subject=sync.entity, value=sync.accuracy, breached=sync.accuracy < threshold,
                       summary=scrub(summary))  # fmt: skip


def _systems(calls: list[SystemCall], threshold: float, since: datetime) -> list[Measurement]:
    by_system: dict[str, list[SystemCall]] = defaultdict(list)
    for call in calls:
        if call.at >= since:
            by_system[call.system].append(call)
    return [_system(system, by_system[system], threshold) for system in sorted(by_system)]


def _system(system: str, calls: list[SystemCall], threshold: float) -> Measurement:
    failed = [c for c in calls if not c.ok]
    rate = len(failed) / len(calls)
    runs = sorted({c.workflow_id for c in failed if c.workflow_id})
    summary = f"{system}: {len(failed)} of {len(calls)} calls failed ({rate:.0%}; alert above {threshold:.0%})"
    if runs:
        summary += f"; {len(runs)} run{'s' if len(runs) != 1 else ''} retrying: {_named(runs)}"
    last = max(failed, key=lambda c: (c.at, c.workflow_id is not None), default=None)  # a run's says more
    if last is not None and last.error:
        summary += f"; last error: {last.error}"
    return Measurement(subject=system, value=rate, breached=rate > threshold, summary=scrub(summary))


def _failed(runs: list[FailedRun], since: datetime) -> list[Measurement]:
    latest: dict[str, FailedRun] = {}
    for run in runs:
        known = latest.get(run.workflow_id)
        if run.closed_at >= since and (known is None or run.closed_at > known.closed_at):
            latest[run.workflow_id] = run
    found = []
    for workflow_id, run in sorted(latest.items()):
        kind = f" ({run.workflow_type})" if run.workflow_type else ""
        why = run.error or "no reason given"
        summary = f"run {workflow_id}{kind} failed at {run.closed_at:%Y-%m-%d %H:%M:%S}Z: {why}"
        found.append(Measurement(subject=workflow_id, value=1, breached=True, summary=scrub(summary)))
    return found
