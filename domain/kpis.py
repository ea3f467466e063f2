"""The operations KPIs, computed from the store's business events, Temporal visibility rows and
the dead-letter counts (pure: `compute_kpis(KpiInputs) -> KpiReport`; the inputs are gathered
by starter/operations/kpis.py). Nothing here counts in memory across restarts: the same inputs
give the same report, whoever computes it.

The window is `[since, until)` in UTC. A number about something that *ended* (a duration, a
decision, a breach) counts it when its ending event's `occurred_at` is in the window; the start
of a duration may lie before the window (the gatherer reads a lookback before `since`; an end
whose start is not found is `unmatched` and not in the statistics). Every duration is
end `occurred_at` - start, in seconds (paired and summarised by domain/kpi_durations.py). Percentiles are
nearest-rank (`percentile`).

- **Onboarding cycle time** (`onboarding_cycle_time`, by outcome and `all`): from the start time
  of the onboarding run (visibility `StartTime` of the run whose id is in the event id,
  `<workflow id>:<run id>:<n>:<type>`) to its `supplier.onboarded` (outcome `onboarded` or
  `linked`, from the event's data) or `supplier.onboarding_rejected` (outcome `rejected`). A run
  that failed publishes neither and is counted in failed runs instead.
- **PO acknowledgement latency**: per PO (the event subject), `purchase_order.released` -> the
  first `purchase_order.acknowledged` after it.
- **PO cycle time**: per PO, `purchase_order.released` -> `purchase_order.closed`.
- **First-pass match rate**: of the invoices (subject `<supplier>/<invoice number>`) whose first
  match decision - `invoice.approved` (matched clean) or `invoice.exception_raised` - is in the
  window, the share whose first decision is `invoice.approved`. A refused duplicate
  (`invoice.duplicate_refused`) is not a match decision.
- **Exception resolution time** (by process, team and kind): `invoice.exception_raised` ->
  `invoice.exception_resolved` per invoice (team: the raised event's `team`; kind: the first of its
  `kinds`, the discrepancy the AP dispute also records), and `purchase_order.exception_raised` ->
  `purchase_order.exception_resolved` per PO and `kind` (team: the raised event's `team`).
  `still_open`: raised in the window, not resolved by its end. `exception_resolution_by_team`
  pools both processes per team.
- **SLA breaches by team**: the events `supplier.review_escalated`,
  `purchase_order.exception_escalated`, `invoice.exception_escalated`,
  `purchase_order.acknowledgement_overdue` and `purchase_order.invoice_overdue` in the window,
  counted by the team each hands the work to (its `team`, else `escalated_to`) and by type.
- **Duplicate suppliers prevented**: `supplier.onboarded` with outcome `linked` (the same tax id
  was already in the ERP: no second supplier) plus `supplier.onboarding_rejected` with kind
  `review_rejected` (a possible duplicate refused in review), in the window.
- **Master-data sync accuracy**: over the `sync.completed` events in the window that are not dry
  runs, the sum of `in_sync` over the sum of `compared - awaiting_decision` (each run's
  accuracy, weighted by its records; 1.0 when runs compared nothing); `latest_by_entity` is the
  `accuracy` the latest run of each entity published.
- **Dead letters open**: intake dead letters with status `open` + event deliveries with status
  `dead`, when the report is made (a count now, not per window).
- **Failed runs**: visibility `ExecutionStatus = "Failed"` with `CloseTime` in the window, by
  workflow type (terminated, cancelled and timed-out runs are not failures).
- **Per day** (`daily`): the same counts by the UTC day of their event (a failed run by its
  close time).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import date
from typing import Literal

from domain.events import BusinessEvent
from domain.kpi_durations import durations, pair, run_id_of
from domain.kpi_models import (
    DayRow,
    DuplicatesPrevented,
    Durations,
    FailedRuns,
    KpiInputs,
    KpiReport,
    KpiWindow,
    MatchRate,
    ResolutionGroup,
    RunRecord,
    SyncAccuracy,
    TeamBreaches,
)

ONBOARDING_ENDS = ("supplier.onboarded", "supplier.onboarding_rejected")
DECISIONS = ("invoice.approved", "invoice.exception_raised")
SLA_BREACH_TYPES = (
    "supplier.review_escalated",
    "purchase_order.exception_escalated",
    "invoice.exception_escalated",
    "purchase_order.acknowledgement_overdue",
    "purchase_order.invoice_overdue",
)
FAILED_RUNS_LISTED = 100
Process = Literal["invoice", "purchase_order"]

# --- the KPIs -------------------------------------------------------------------------------------


def onboarding_outcome(event: BusinessEvent) -> str:
    return str(event.data.get("outcome", "onboarded")) if event.type == "supplier.onboarded" else "rejected"


def onboarding_cycle_times(ends: Sequence[BusinessEvent], runs: Sequence[RunRecord] | None) -> dict[str, Durations]:
    by_run = {run.run_id: run for run in runs or []}
    by_workflow: dict[str, list[RunRecord]] = defaultdict(list)
    for each in runs or []:
        by_workflow[each.workflow_id].append(each)
    seconds: dict[str, list[float]] = defaultdict(list)
    unmatched: Counter[str] = Counter()
    for end in ends:
        outcome = onboarding_outcome(end)
        run: RunRecord | None = by_run.get(run_id_of(end) or "")
        if run is None:  # the latest run of the workflow id that started before the event
            earlier = [r for r in by_workflow.get(end.workflow_id or "", []) if r.start_time <= end.occurred_at]
            run = max(earlier, key=lambda r: r.start_time, default=None)
        if run is None:
            unmatched[outcome] += 1
            continue
        seconds[outcome].append((end.occurred_at - run.start_time).total_seconds())
    outcomes = ("onboarded", "linked", "rejected")
    every = [value for outcome in seconds for value in seconds[outcome]]
    report = {"all": durations(every, sum(unmatched.values()))}
    report |= {outcome: durations(seconds[outcome], unmatched[outcome]) for outcome in outcomes}
    return report


def first_decisions(events: Iterable[BusinessEvent], window: KpiWindow) -> list[BusinessEvent]:
    """The first match decision of each invoice, when it is in the window."""
    first: dict[str, BusinessEvent] = {}
    for event in sorted((e for e in events if e.type in DECISIONS), key=lambda e: (e.occurred_at, e.event_id)):
        first.setdefault(event.subject, event)
    return [e for e in first.values() if window.contains(e.occurred_at)]


def exception_key(event: BusinessEvent) -> Hashable:
    """An invoice has one exception; a PO one open decision per kind."""
    return (event.subject, event.data.get("kind")) if event.type.startswith("purchase_order.") else event.subject


Group = tuple[Process, str, str]


def exception_group(raised: BusinessEvent) -> Group:
    """(process, team, kind) of an exception, from the event that raised it."""
    team = str(raised.data.get("team") or "unknown")
    if raised.type.startswith("invoice."):
        kinds = raised.data.get("kinds") or ["unknown"]
        return "invoice", team, str(kinds[0])
    return "purchase_order", team, str(raised.data.get("kind") or "unknown")


def exception_resolution(
    events: Sequence[BusinessEvent], window: KpiWindow
) -> tuple[list[ResolutionGroup], dict[str, Durations], int]:
    """The groups, the pooled durations per team, and the resolutions whose raise was not found."""
    pairings = [
        pair(events, [f"{p}.exception_raised"], [f"{p}.exception_resolved"], exception_key, window)
        for p in ("invoice", "purchase_order")
    ]
    resolved: dict[Group, list[float]] = defaultdict(list)
    still_open: Counter[Group] = Counter()
    for pairing in pairings:
        for interval in pairing.intervals:
            resolved[exception_group(interval.start)].append(interval.seconds)
        for start in pairing.open_starts:
            if window.contains(start.occurred_at):
                still_open[exception_group(start)] += 1
    groups = sorted(set(resolved) | set(still_open))
    by_team: dict[str, list[float]] = defaultdict(list)
    for (_, team, _), values in resolved.items():
        by_team[team].extend(values)
    rows = [
        ResolutionGroup(process=group[0], team=group[1], kind=group[2], resolved=durations(resolved[group]),
                        still_open=still_open[group])
        for group in groups
    ]  # fmt: skip
    teams = sorted({team for _, team, _ in groups})
    return rows, {team: durations(by_team[team]) for team in teams}, sum(p.unmatched for p in pairings)


def breach_team(event: BusinessEvent) -> str:
    return str(event.data.get("team") or event.data.get("escalated_to") or "unknown")


def sla_breaches(in_window: Sequence[BusinessEvent]) -> list[TeamBreaches]:
    by_team: dict[str, Counter[str]] = defaultdict(Counter)
    for event in in_window:
        if event.type in SLA_BREACH_TYPES:
            by_team[breach_team(event)][event.type] += 1
    rows = [TeamBreaches(team=team, count=sum(types.values()), by_type=dict(sorted(types.items())))
            for team, types in by_team.items()]  # fmt: skip
    return sorted(rows, key=lambda row: (-row.count, row.team))


def duplicates_prevented(in_window: Sequence[BusinessEvent]) -> DuplicatesPrevented:
    linked = sum(1 for e in in_window if e.type == "supplier.onboarded" and e.data.get("outcome") == "linked")
    refused = sum(
        1 for e in in_window if e.type == "supplier.onboarding_rejected" and e.data.get("kind") == "review_rejected"
    )
    return DuplicatesPrevented(linked=linked, rejected_in_review=refused)


def sync_accuracy(in_window: Sequence[BusinessEvent]) -> SyncAccuracy:
    runs = sorted((e for e in in_window if e.type == "sync.completed" and not e.data.get("dry_run")),
                  key=lambda e: e.occurred_at)  # fmt: skip
    in_sync = sum(int(e.data.get("in_sync", 0)) for e in runs)
    responsible = sum(int(e.data.get("compared", 0)) - int(e.data.get("awaiting_decision", 0)) for e in runs)
    accuracy = None if not runs else (in_sync / responsible if responsible > 0 else 1.0)
    latest = {str(e.data.get("entity")): float(e.data.get("accuracy", 1.0)) for e in runs}
    return SyncAccuracy(runs=len(runs), in_sync=in_sync, responsible=responsible, accuracy=accuracy,
                        latest_by_entity=dict(sorted(latest.items())))  # fmt: skip


def failed_in_window(runs: Sequence[RunRecord], window: KpiWindow) -> list[RunRecord]:
    """The runs that failed with their close time in the window, newest first."""
    failed = [r for r in runs if r.status == "failed" and r.close_time is not None and window.contains(r.close_time)]
    return sorted(failed, key=lambda r: (r.close_time, r.workflow_id), reverse=True)


def failed_runs(failed: Sequence[RunRecord] | None) -> FailedRuns:
    if failed is None:
        return FailedRuns(available=False, total=None, by_type={}, runs=[])
    by_type = Counter(r.workflow_type for r in failed)
    return FailedRuns(available=True, total=len(failed), by_type=dict(sorted(by_type.items())),
                      runs=list(failed[:FAILED_RUNS_LISTED]))  # fmt: skip


def compute_kpis(inputs: KpiInputs) -> KpiReport:
    window = inputs.window
    events = [e for e in inputs.events if e.occurred_at < window.until]
    in_window = [e for e in events if window.contains(e.occurred_at)]
    released, closed = ["purchase_order.released"], ["purchase_order.closed"]
    by_subject: Callable[[BusinessEvent], Hashable] = lambda e: e.subject  # noqa: E731
    acks = pair(events, released, ["purchase_order.acknowledged"], by_subject, window)
    cycles = pair(events, released, closed, by_subject, window)
    decisions = first_decisions(events, window)
    groups, by_team, _ = exception_resolution(events, window)
    breaches = sla_breaches(in_window)
    failed = None if inputs.failed_runs is None else failed_in_window(inputs.failed_runs, window)
    return KpiReport(
        window=window,
        generated_at=inputs.generated_at,
        notes=list(inputs.notes),
        onboarding_cycle_time=onboarding_cycle_times(
            [e for e in in_window if e.type in ONBOARDING_ENDS], inputs.onboarding_runs
        ),
        po_acknowledgement_latency=durations([i.seconds for i in acks.intervals], acks.unmatched),
        po_cycle_time=durations([i.seconds for i in cycles.intervals], cycles.unmatched),
        first_pass_match=_match_rate(decisions),
        exception_resolution=groups,
        exception_resolution_by_team=by_team,
        sla_breaches_total=sum(row.count for row in breaches),
        sla_breaches=breaches,
        duplicate_suppliers_prevented=duplicates_prevented(in_window),
        sync_accuracy=sync_accuracy(in_window),
        dead_letters_open=inputs.dead_letters,
        failed_runs=failed_runs(failed),
        daily=daily_rows(window, in_window, [i.end for i in acks.intervals], decisions, failed),
    )


def _match_rate(decisions: Sequence[BusinessEvent]) -> MatchRate:
    first_pass = sum(1 for e in decisions if e.type == "invoice.approved")
    return MatchRate(decided=len(decisions), first_pass=first_pass,
                     rate=first_pass / len(decisions) if decisions else None)  # fmt: skip


def daily_rows(
    window: KpiWindow,
    in_window: Sequence[BusinessEvent],
    first_acks: Sequence[BusinessEvent],
    decisions: Sequence[BusinessEvent],
    failed: Sequence[RunRecord] | None,
) -> list[DayRow]:
    def per_day(events: Iterable[BusinessEvent], *types: str) -> Counter[date]:
        return Counter(e.occurred_at.date() for e in events if not types or e.type in types)

    count = {
        "onboardings": per_day(in_window, *ONBOARDING_ENDS),
        "pos_released": per_day(in_window, "purchase_order.released"),
        "pos_acknowledged": per_day(first_acks),
        "pos_closed": per_day(in_window, "purchase_order.closed"),
        "invoices_decided": per_day(decisions),
        "invoices_first_pass": per_day(decisions, "invoice.approved"),
        "exceptions_raised": per_day(in_window, "invoice.exception_raised", "purchase_order.exception_raised"),
        "exceptions_resolved": per_day(in_window, "invoice.exception_resolved", "purchase_order.exception_resolved"),
        "sla_breaches": per_day(in_window, *SLA_BREACH_TYPES),
    }
    failures = Counter(r.close_time.date() for r in failed or [] if r.close_time is not None)
    return [
        DayRow(day=day, **{name: counter[day] for name, counter in count.items()},
               failed_runs=None if failed is None else failures[day])
        for day in window.days()
    ]  # fmt: skip
