"""The KPIs of domain/kpis.py: a day of traffic (tests/support/kpi_traffic.py) worked out by hand,
every number as its definition says (ends in the window, starts found in the lookback, repeats
and dry runs ignored, unmatched ends set apart), nearest-rank percentiles, and properties any
set of events keeps: the daily rows add up to the totals, histograms to the counts, p50 <= p90
<= max, and the order the events are read in changes nothing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.events import BusinessEvent
from domain.kpi_durations import HISTOGRAM_BINS, percentile, run_id_of
from domain.kpi_models import DeadLetterCounts, Durations, KpiInputs, KpiReport, KpiWindow, RunRecord
from domain.kpis import SLA_BREACH_TYPES, compute_kpis
from starter.operations.kpis import ONBOARDING_WORKFLOW_TYPE, asked_window
from tests.support.kpi_traffic import DAY, T0, day_of_traffic
from workflows.onboarding import SupplierOnboardingWorkflow

D = 86400.0


def report_of(events: list[BusinessEvent], runs: list[RunRecord] | None = None, window: KpiWindow = DAY,
              failed: list[RunRecord] | None = None) -> KpiReport:  # fmt: skip
    dead = DeadLetterCounts(intake_open=2, deliveries_dead=1)
    inputs = KpiInputs(window=window, generated_at=window.until, events=events, onboarding_runs=runs or [],
                       failed_runs=failed or [], dead_letters=dead)  # fmt: skip
    return compute_kpis(inputs)


@pytest.fixture(scope="module")
def day() -> KpiReport:
    traffic = day_of_traffic()
    return report_of(traffic.events, traffic.onboarding_runs, failed=traffic.other_runs)


def stats(d: Durations) -> tuple[int, float | None, float | None, int]:
    return d.count, d.p50_seconds, d.p90_seconds, d.unmatched


def test_onboarding_cycle_time_runs_from_the_run_start_to_its_ending_event_by_outcome(day: KpiReport) -> None:
    cycle = day.onboarding_cycle_time
    assert stats(cycle["all"]) == (4, 30.0, 7200.0, 1)  # 5, 30, 90, 7200 s; VM-5's run is not in visibility
    assert cycle["all"].mean_seconds == 1831.25 and cycle["all"].max_seconds == 7200.0
    assert stats(cycle["onboarded"]) == (1, 30.0, 30.0, 1)
    assert stats(cycle["linked"]) == (1, 90.0, 90.0, 0)  # VM-6 ended before the window
    assert stats(cycle["rejected"]) == (2, 5.0, 7200.0, 0)


def test_po_latency_and_cycle_pair_each_release_with_its_first_acknowledgement_and_its_close(day: KpiReport) -> None:
    # PO-1 released two days before the window (found in the lookback); PO-2's second ack is a repeat;
    # PO-3 is acknowledged after the window, PO-5 before it; PO-4's release was never recorded
    assert stats(day.po_acknowledgement_latency) == (2, 600.0, 2 * D + 3600, 1)
    assert stats(day.po_cycle_time) == (2, D + 6 * 3600, 2 * D + 5 * 3600, 0)


def test_first_pass_rate_counts_each_invoice_once_by_its_first_decision_in_the_window(day: KpiReport) -> None:
    match = day.first_pass_match  # A approved; B and C exceptions; D before the window; E a duplicate; F raised before
    assert (match.decided, match.first_pass, match.rate) == (3, 1, 1 / 3)


def test_exception_resolution_is_grouped_by_process_team_and_first_kind_with_those_left_open(day: KpiReport) -> None:
    groups = {(g.process, g.team, g.kind): (g.resolved.count, g.resolved.p50_seconds, g.resolved.p90_seconds,
                                            g.still_open) for g in day.exception_resolution}  # fmt: skip
    assert groups == {
        ("invoice", "pricing", "price_variance"): (2, 7200.0, D + 3600, 0),  # B in 2 h, F in 1 d 1 h
        ("invoice", "receiving", "no_receipt"): (0, None, None, 1),
        ("purchase_order", "contracting", "contract_exception"): (0, None, None, 1),
        ("purchase_order", "pricing", "pricing_approval"): (1, 1200.0, 1200.0, 0),
    }
    by_team = {team: stats(d) for team, d in day.exception_resolution_by_team.items()}
    assert by_team == {"contracting": (0, None, None, 0), "pricing": (3, 7200.0, D + 3600, 0),
                       "receiving": (0, None, None, 0)}  # fmt: skip


def test_sla_breaches_are_counted_by_the_team_each_event_hands_the_work_to(day: KpiReport) -> None:
    assert day.sla_breaches_total == 5
    assert {b.team: b.by_type for b in day.sla_breaches} == {
        "accounts-payable": {"purchase_order.invoice_overdue": 1},
        "contracting-managers": {"purchase_order.exception_escalated": 1},
        "pricing-managers": {"invoice.exception_escalated": 1},
        "purchasing-managers": {"purchase_order.acknowledgement_overdue": 1},
        "vendor-master-data-managers": {"supplier.review_escalated": 1},
    }


def test_duplicates_sync_accuracy_dead_letters_and_failed_runs(day: KpiReport) -> None:
    dup = day.duplicate_suppliers_prevented
    assert (dup.linked, dup.rejected_in_review, dup.total) == (1, 1, 2)
    sync = day.sync_accuracy  # the dry run is left out; items had 2 records awaiting a person
    assert (sync.runs, sync.in_sync, sync.responsible, sync.accuracy) == (3, 243, 248, 243 / 248)
    assert sync.latest_by_entity == {"items": 1.0, "suppliers": 1.0}
    assert day.dead_letters_open.total == 3
    failed = day.failed_runs  # one failed before the window, one terminated
    assert (failed.total, failed.by_type) == (2, {"Invoice": 1, "PurchaseOrder": 1})
    assert [r.workflow_id for r in failed.runs] == ["invoice-SUP-0001-INV-9", "purchase-order-PO-9"]


def test_the_day_row_counts_what_ended_that_day(day: KpiReport) -> None:
    [row] = day.daily
    assert row.model_dump(exclude={"day"}) == {
        "onboardings": 5, "pos_released": 2, "pos_acknowledged": 2, "pos_closed": 2, "invoices_decided": 3,
        "invoices_first_pass": 1, "exceptions_raised": 4, "exceptions_resolved": 3, "sla_breaches": 5,
        "failed_runs": 2, "first_pass_rate": 1 / 3,
    }  # fmt: skip


def test_without_visibility_the_numbers_that_need_it_are_null_and_the_rest_stand() -> None:
    traffic = day_of_traffic()
    inputs = KpiInputs(window=DAY, generated_at=DAY.until, events=traffic.events, onboarding_runs=None,
                       failed_runs=None, dead_letters=DeadLetterCounts(intake_open=0, deliveries_dead=0))  # fmt: skip
    report = compute_kpis(inputs)
    assert (report.failed_runs.available, report.failed_runs.total, report.daily[0].failed_runs) == (False, None, None)
    assert stats(report.onboarding_cycle_time["all"]) == (0, None, None, 5)
    assert report.po_cycle_time.count == 2


def test_days_are_utc_days_and_a_window_is_checked() -> None:
    window = KpiWindow(since=datetime(2026, 11, 23, 22, 0), until=datetime(2026, 11, 25, 0, 0))  # naive: UTC
    assert [d.isoformat() for d in window.days()] == ["2026-11-23", "2026-11-24"]
    assert window.last_day.isoformat() == "2026-11-24" and window.since.tzinfo is UTC
    with pytest.raises(ValidationError, match="since must be before until"):
        KpiWindow(since=T0, until=T0)
    with pytest.raises(ValidationError, match="at most 366 days"):
        KpiWindow(since=T0 - timedelta(days=367), until=T0)
    assert asked_window(until=T0) == KpiWindow(since=T0 - timedelta(days=7), until=T0)
    with pytest.raises(ValueError, match="no 7 days before 0001-01-02"):
        asked_window(until=datetime(1, 1, 2, tzinfo=UTC))
    with pytest.raises(ValidationError, match="between the years 1 and 9999"):
        KpiWindow(since=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))), until=T0)


def test_percentiles_are_nearest_rank_and_the_onboarding_run_is_found_by_the_event_id() -> None:
    assert [percentile([4, 1, 3, 2], p) for p in (0, 25, 50, 75, 90, 100)] == [1, 1, 2, 3, 4, 4]
    assert percentile([7], 50) == 7
    event = BusinessEvent(event_id="supplier-onboarding-VM-1:0193-ab:2:supplier.onboarded", type="supplier.onboarded",
                          subject="VM-1", workflow_id="supplier-onboarding-VM-1", occurred_at=T0)  # fmt: skip
    assert run_id_of(event) == "0193-ab"
    assert run_id_of(event.model_copy(update={"event_id": "credential:VM-1:coi:supplier.onboarded"})) is None
    assert SupplierOnboardingWorkflow.__temporal_workflow_definition.name == ONBOARDING_WORKFLOW_TYPE  # type: ignore[attr-defined]


@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1), st.floats(0, 100))
def test_a_percentile_is_a_value_with_at_least_p_percent_at_or_below_it(values: list[float], p: float) -> None:
    found = percentile(values, p)
    assert found in values
    assert sum(v <= found for v in values) >= p / 100 * len(values)
    assert sum(v < found for v in values) < max(1, p / 100 * len(values))


TYPES = ["supplier.onboarded", "supplier.onboarding_rejected", "purchase_order.released", "purchase_order.acknowledged",
         "purchase_order.closed", "invoice.approved", "invoice.exception_raised", "invoice.exception_resolved",
         "purchase_order.exception_raised", "purchase_order.exception_resolved", *SLA_BREACH_TYPES]  # fmt: skip
events = st.lists(
    st.builds(
        lambda n, type, subject, minutes, team: BusinessEvent(
            event_id=f"wf-{subject}:run-{subject}:{n}:{type}", type=type, subject=subject,
            workflow_id=f"wf-{subject}", occurred_at=T0 + timedelta(minutes=minutes),
            data={"team": team, "kind": "pricing_approval", "kinds": ["price_variance"], "outcome": "linked"}),
        st.integers(0, 10**6), st.sampled_from(TYPES), st.sampled_from(["A", "B", "C", "D"]),
        st.integers(-3 * 1440, 4 * 1440), st.sampled_from(["pricing", "receiving"])),
    max_size=60,
)  # fmt: skip
failures = st.lists(
    st.builds(
        lambda n, minutes, kind: RunRecord(workflow_id=f"wf-{n}", run_id=f"r-{n}", workflow_type=kind, status="failed",
                                           start_time=T0, close_time=T0 + timedelta(minutes=minutes)),
        st.integers(0, 10**6), st.integers(-1440, 4 * 1440), st.sampled_from(["Invoice", "PurchaseOrder"])),
    max_size=10,
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events, failures, st.randoms(use_true_random=False))
def test_daily_rows_add_up_to_the_totals_and_the_order_of_events_changes_nothing(
    found: list[BusinessEvent], failed: list[RunRecord], rng: random.Random
) -> None:
    window = KpiWindow(since=T0, until=T0 + timedelta(days=3))
    runs = [RunRecord(workflow_id=f"wf-{s}", run_id=f"run-{s}", workflow_type="SupplierOnboarding", status="completed",
                      start_time=T0 - timedelta(days=4)) for s in "ABCD"]  # fmt: skip
    report = report_of(found, runs, window, failed)
    in_window = [e for e in found if window.contains(e.occurred_at)]
    daily = report.daily
    assert len(daily) == 3
    assert sum(r.invoices_decided for r in daily) == report.first_pass_match.decided
    assert sum(r.invoices_first_pass for r in daily) == report.first_pass_match.first_pass
    assert sum(r.sla_breaches for r in daily) == report.sla_breaches_total == sum(b.count for b in report.sla_breaches)
    assert sum(r.pos_acknowledged for r in daily) == report.po_acknowledgement_latency.count
    assert sum(r.pos_closed for r in daily) == sum(1 for e in in_window if e.type == "purchase_order.closed")
    assert report.po_cycle_time.count + report.po_cycle_time.unmatched <= sum(r.pos_closed for r in daily)
    assert (
        sum(r.failed_runs or 0 for r in daily) == report.failed_runs.total == sum(report.failed_runs.by_type.values())
    )
    assert sum(r.onboardings for r in daily) == report.onboarding_cycle_time["all"].count
    every = [
        report.onboarding_cycle_time["all"],
        report.po_acknowledgement_latency,
        report.po_cycle_time,
        *report.exception_resolution_by_team.values(),
        *(g.resolved for g in report.exception_resolution),
    ]
    for d in every:
        assert sum(b.count for b in d.histogram) == d.count and len(d.histogram) == len(HISTOGRAM_BINS)
        if d.count:
            assert d.p50_seconds is not None and d.p90_seconds is not None and d.max_seconds is not None
            assert 0 <= d.p50_seconds <= d.p90_seconds <= d.max_seconds
    shuffled = list(found)
    rng.shuffle(shuffled)
    assert report_of(shuffled, runs, window, failed) == report
