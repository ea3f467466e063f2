"""The operations KPI report's models: its window, what it is computed from (business events,
Temporal visibility rows, dead-letter counts) and what it reports. The rules that fill them, and
the definition of every number, are in domain/kpis.py.

Decisions:
- A window is half-open, `[since, until)`, in UTC; an event belongs to it by its `occurred_at`,
  a run by its close time. Days are UTC calendar days. A window is at most `MAX_WINDOW` long, so
  one request cannot make the store read years of events.
- Durations are seconds (floats, to the millisecond), never formatted strings: the JSON answer is
  for machines; the HTML page (starter/report_html.py) formats them for people.
- Visibility is optional: when Temporal cannot be read the report is still made from the store,
  with the numbers that need visibility null and a note saying why.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import ConfigDict, Field, computed_field, field_validator, model_validator

from domain.base import DomainModel
from domain.events import BusinessEvent

MAX_WINDOW = timedelta(days=366)
DURATION_UNITS = (("days", 86400), ("hours", 3600), ("minutes", 60))


def human_duration(seconds: float | None) -> str:
    """`42.0 s`, `3.5 minutes`, `1.2 days`; `-` for none (what the CLI and the HTML page show)."""
    if seconds is None:
        return "-"
    for unit, size in DURATION_UNITS:
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} s"


def human_rate(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f} %"


class _WithTotals(DomainModel):
    """A model with computed fields (`total`, a rate): they are written to JSON and ignored when the
    JSON is read back, so a report file validates as a `KpiReport` again."""

    model_config = ConfigDict(extra="ignore", hide_input_in_errors=True)


class KpiWindow(DomainModel):
    """`[since, until)`; a naive datetime is taken to be UTC."""

    since: datetime
    until: datetime

    @field_validator("since", "until")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        try:
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first UTC instant
            raise ValueError("a time between the years 1 and 9999 in UTC") from None

    @model_validator(mode="after")
    def _ordered(self) -> KpiWindow:
        if self.since >= self.until:
            raise ValueError("since must be before until")
        if self.until - self.since > MAX_WINDOW:
            raise ValueError(f"the window is at most {MAX_WINDOW.days} days long")
        return self

    def contains(self, at: datetime) -> bool:
        return self.since <= at < self.until

    def days(self) -> list[date]:
        """The UTC calendar days the window touches, in order."""
        first, last = self.since.date(), (self.until - timedelta(microseconds=1)).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    @property
    def last_day(self) -> date:
        """The last UTC day the window covers (a report of `[Nov 24 00:00, Nov 25 00:00)` is Nov 24's)."""
        return self.days()[-1]


class RunRecord(DomainModel):
    """One workflow run as Temporal visibility lists it."""

    workflow_id: str
    run_id: str
    workflow_type: str
    status: str = Field(description="running, completed, failed, ... (lower case)")
    start_time: datetime
    close_time: datetime | None = None


class DeadLetterCounts(_WithTotals):
    """Open at the time the report was made (not per window): intake dead letters with status
    `open` and event deliveries with status `dead`."""

    intake_open: int = Field(ge=0)
    deliveries_dead: int = Field(ge=0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        return self.intake_open + self.deliveries_dead


class KpiInputs(DomainModel):
    """Everything a report is computed from. `events` holds the window's events and those of the
    lookback before it (where the start of an interval ending in the window is found); events at
    or after `until` are ignored. `onboarding_runs`/`failed_runs` are None when visibility could
    not be read."""

    window: KpiWindow
    generated_at: datetime
    events: list[BusinessEvent] = Field(default_factory=list)
    onboarding_runs: list[RunRecord] | None = Field(default_factory=list)
    failed_runs: list[RunRecord] | None = Field(default_factory=list)
    dead_letters: DeadLetterCounts
    notes: list[str] = Field(default_factory=list)


# --- what the report says -------------------------------------------------------------------------


class HistogramBin(DomainModel):
    label: str
    lower_seconds: float
    upper_seconds: float | None = Field(description="exclusive; null for the last, open bin")
    count: int


class Durations(DomainModel):
    """A distribution of durations in seconds; the statistics are null when `count` is 0.
    Percentiles are nearest-rank (domain/kpis.py `percentile`)."""

    count: int = 0
    p50_seconds: float | None = None
    p90_seconds: float | None = None
    mean_seconds: float | None = None
    max_seconds: float | None = None
    unmatched: int = Field(default=0, description="ends in the window whose start was not found (not counted)")
    histogram: list[HistogramBin] = Field(default_factory=list)


class MatchRate(DomainModel):
    decided: int = Field(description="invoices whose match was decided in the window (approved or exception)")
    first_pass: int = Field(description="of those, approved by the match itself, with no exception")
    rate: float | None = Field(description="first_pass / decided; null when none was decided")


class ResolutionGroup(DomainModel):
    process: Literal["invoice", "purchase_order"]
    team: str = Field(description="the team the exception was raised to (before any escalation)")
    kind: str
    resolved: Durations = Field(description="raised -> resolved, for the resolutions in the window")
    still_open: int = Field(description="raised in the window and not resolved by its end")


class TeamBreaches(DomainModel):
    team: str = Field(description="the team the event hands the work to (its `team` or `escalated_to`)")
    count: int
    by_type: dict[str, int]


class DuplicatesPrevented(_WithTotals):
    linked: int = Field(description="onboardings linked to the ERP supplier of the same tax id")
    rejected_in_review: int = Field(description="possible duplicates rejected in vendor-master-data's review")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        return self.linked + self.rejected_in_review


class SyncAccuracy(DomainModel):
    runs: int = Field(description="master-data syncs (not dry runs) completed in the window")
    in_sync: int
    responsible: int = Field(description="records compared, less those awaiting a person's decision")
    accuracy: float | None = Field(description="in_sync / responsible over every run; null when no run")
    latest_by_entity: dict[str, float] = Field(description="entity -> the accuracy its latest run published")


class FailedRuns(DomainModel):
    available: bool = Field(description="false when Temporal visibility could not be read")
    total: int | None
    by_type: dict[str, int]
    runs: list[RunRecord] = Field(description="the newest failed runs (at most 100)")


class DayRow(_WithTotals):
    day: date
    onboardings: int = Field(description="onboardings ended (onboarded, linked or rejected)")
    pos_released: int
    pos_acknowledged: int = Field(description="first acknowledgements")
    pos_closed: int
    invoices_decided: int
    invoices_first_pass: int
    exceptions_raised: int = Field(description="invoice and PO exceptions")
    exceptions_resolved: int
    sla_breaches: int
    failed_runs: int | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def first_pass_rate(self) -> float | None:
        return self.invoices_first_pass / self.invoices_decided if self.invoices_decided else None


class KpiReport(DomainModel):
    window: KpiWindow
    generated_at: datetime
    notes: list[str]
    onboarding_cycle_time: dict[str, Durations] = Field(description="all, onboarded, linked, rejected")
    po_acknowledgement_latency: Durations
    po_cycle_time: Durations
    first_pass_match: MatchRate
    exception_resolution: list[ResolutionGroup]
    exception_resolution_by_team: dict[str, Durations]
    sla_breaches_total: int
    sla_breaches: list[TeamBreaches]
    duplicate_suppliers_prevented: DuplicatesPrevented
    sync_accuracy: SyncAccuracy
    dead_letters_open: DeadLetterCounts
    failed_runs: FailedRuns
    daily: list[DayRow]


# --- the daily report (workflows/kpi_report.py, activities/reports.py) ---------------------------


class KpiReportInput(DomainModel):
    """The `kpi-report` schedule's input: the report covers the `window_hours` up to the minute
    the run starts (a daily schedule fires at 00:00 UTC: the day before)."""

    window_hours: int = Field(default=24, ge=1, le=24 * 366)


class WriteKpiReportInput(DomainModel):
    window: KpiWindow


class KpiReportWritten(DomainModel):
    window: KpiWindow
    json_file: str
    html_file: str
    failed_runs: int | None
    sla_breaches: int
    dead_letters_open: int
    notes: list[str] = Field(default_factory=list)
