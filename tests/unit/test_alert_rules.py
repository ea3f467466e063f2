"""domain/alerts.py and domain/alert_facts.py: the rules file (each refusal names its field), how each
kind of rule measures the facts, and the evaluation: one open alert per rule and subject, resolved
only when its condition was seen cleared, re-notified no sooner than the interval."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.alert_facts import (
    AlertFacts,
    AlertKind,
    DeadLetterCounts,
    FailedRun,
    SyncAccuracy,
    SystemCall,
    failing_system,
    scrub,
)
from domain.alerts import (
    AlertPlan,
    AlertRule,
    AlertRulesInvalid,
    OpenAlert,
    Severity,
    evaluate,
    load_rules,
    parse_rules,
)

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def rule(kind: AlertKind, rule_id: str | None = None, **fields: Any) -> AlertRule:
    return AlertRule(id=rule_id or kind.value.replace("_", "-"), kind=kind, **fields)


def call(system: str, ok: bool, minutes_ago: float = 0, run: str | None = None) -> SystemCall:
    error = None if ok else f"{system} unavailable: GET answered 503"
    return SystemCall(system=system, at=NOW - timedelta(minutes=minutes_ago), ok=ok, error=error, workflow_id=run)


# --- the rules file ------------------------------------------------------------------------------


def test_the_built_in_rules_cover_every_kind_and_route_to_operations() -> None:
    rules = load_rules().rules
    assert {r.kind for r in rules} == set(AlertKind)
    assert {r.team for r in rules} == {"operations"}
    failing = next(r for r in rules if r.kind is AlertKind.SYSTEM_FAILING)
    assert failing.severity is Severity.CRITICAL and 0 < failing.threshold < 1


def errors_of(document: object) -> list[dict[str, str]]:
    with pytest.raises(AlertRulesInvalid) as refused:
        parse_rules(json.dumps(document), "rules.json")
    assert str(refused.value).startswith("alert rules rules.json: ")
    return refused.value.errors


@pytest.mark.parametrize(
    ("rule_fields", "field", "reason"),
    [
        ({"id": "a", "kind": "sync_accuracy_below", "threshold": 95}, "rules.0.threshold", "between 0 and 1"),
        ({"id": "a", "kind": "system_failing", "threshold": 1}, "rules.0.threshold", "below 1"),
        ({"id": "a", "kind": "dead_letters_above", "threshold": -1}, "rules.0.threshold", "greater than or equal"),
        ({"id": "a", "kind": "disk_full"}, "rules.0.kind", "sla_breached"),
        ({"id": "A b", "kind": "run_failed"}, "rules.0.id", "pattern"),
        ({"id": "a", "kind": "run_failed", "window": "PT0S"}, "rules.0.window", "greater than"),
        ({"id": "a", "kind": "run_failed", "severity": "page"}, "rules.0.severity", "critical"),
        ({"id": "a", "kind": "run_failed", "colour": "red"}, "rules.0.colour", "not permitted"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_field(rule_fields: dict[str, Any], field: str, reason: str) -> None:
    [error] = errors_of({"rules": [rule_fields]})
    assert error["field"] == field and reason in error["reason"]


def test_every_problem_of_a_file_is_named_at_once() -> None:
    document = {"rules": [{"id": "a", "kind": "run_failed"}, {"id": "a", "kind": "nope"}, {"kind": "run_failed"}]}
    assert {e["field"] for e in errors_of(document)} == {"rules.1.kind", "rules.2.id"}
    twice = errors_of({"rules": [{"id": "a", "kind": "run_failed"}, {"id": "a", "kind": "sla_breached"}]})
    assert twice == [{"field": "rules", "reason": "Value error, rule ids must be unique: a more than once"}]
    assert errors_of({})[0]["field"] == "rules"


def test_a_file_that_is_not_json_or_missing_is_named(tmp_path: Path) -> None:
    (tmp_path / "rules.json").write_text('{"rules": [', encoding="utf-8")
    with pytest.raises(AlertRulesInvalid, match=r"rules\.json: \(file\): not JSON"):
        load_rules(tmp_path / "rules.json")
    with pytest.raises(AlertRulesInvalid, match="cannot be read"):
        load_rules(tmp_path / "missing.json")
    (tmp_path / "mine.json").write_text('{"rules": [{"id": "x", "kind": "run_failed", "window": 3600}]}')
    assert load_rules(tmp_path / "mine.json").rules[0].window == HOUR


# --- measuring ---------------------------------------------------------------------------------


def test_each_kind_measures_its_facts_per_subject() -> None:
    facts = AlertFacts(
        escalated={"pricing": ["invoice-1", "invoice-2"], "receiving": []},
        dead_letters=DeadLetterCounts(intake=2, deliveries=1),
        syncs=[
            SyncAccuracy(entity="suppliers", accuracy=0.9, sync_id="old", finished_at=NOW - HOUR),
            SyncAccuracy(entity="suppliers", accuracy=0.99, sync_id="new", finished_at=NOW),
            SyncAccuracy(entity="items", accuracy=0.5, sync_id="i", finished_at=NOW),
        ],
        calls=[call("erp", False, run="po-1"), call("erp", False, run="po-2"), call("erp", True, 1),
               call("erp", False, 30), call("ap", True)],
        failed_runs=[FailedRun(workflow_id="po-9", closed_at=NOW - timedelta(days=2), error="old"),
                     FailedRun(workflow_id="po-8", workflow_type="PurchaseOrder", closed_at=NOW, error="erp refused")],
    )  # fmt: skip

    def measured(kind: AlertKind, **fields: Any) -> dict[str, tuple[float, bool]]:
        found = rule(kind, **fields).measure(facts, NOW)
        assert found is not None
        return {m.subject: (m.value, m.breached) for m in found}

    assert measured(AlertKind.SLA_BREACHED) == {"pricing": (2, True), "receiving": (0, False)}
    assert measured(AlertKind.SLA_BREACHED, threshold=2) == {"pricing": (2, False), "receiving": (0, False)}
    assert measured(AlertKind.DEAD_LETTERS_ABOVE, threshold=3) == {"dead-letters": (3, False)}
    assert measured(AlertKind.SYNC_ACCURACY_BELOW, threshold=0.95) == {"suppliers": (0.99, False), "items": (0.5, True)}
    # the 30-minute-old failure is outside a 10-minute window: 2 of 3 calls failed
    assert measured(AlertKind.SYSTEM_FAILING, threshold=0.5) == {"erp": (2 / 3, True), "ap": (0, False)}
    assert measured(AlertKind.SYSTEM_FAILING, threshold=0.5, window=HOUR)["erp"] == (0.75, True)
    assert measured(AlertKind.RUN_FAILED, window=timedelta(days=1)) == {"po-8": (1, True)}

    [erp] = [m for m in rule(AlertKind.SYSTEM_FAILING).measure(facts, NOW) or [] if m.subject == "erp"]
    assert erp.summary == ("erp: 2 of 3 calls failed (67%; alert above 0%); 2 runs retrying: po-1, po-2; "
                           "last error: erp unavailable: GET answered 503")  # fmt: skip
    assert rule(AlertKind.RUN_FAILED).measure(AlertFacts(), NOW) is None  # not gathered: not measured


def test_the_system_a_retried_failure_names_and_summaries_without_secrets() -> None:
    assert failing_system("erp.transient") == "erp"
    assert failing_system("vendor_management.transient") == "vendor_management"
    assert failing_system("erp.duplicate_tax_id") is None and failing_system("ValueError") is None
    assert scrub("tax id 54-1187733,\n account 000123456789 on PO-2026-000451") == (
        "tax id •••, account ••• on PO-2026-000451"
    )
    assert len(scrub("x" * 900)) == 500


# --- evaluating --------------------------------------------------------------------------------

FAILING = rule(AlertKind.SYSTEM_FAILING, threshold=0.5)


def opened(alert_id: int, rule_id: str, subject: str, notified_ago: timedelta = timedelta(0)) -> OpenAlert:
    return OpenAlert(alert_id=alert_id, rule_id=rule_id, subject=subject, last_notified_at=NOW - notified_ago)


def test_an_outage_raises_one_alert_per_system_however_many_runs_retry() -> None:
    facts = AlertFacts(calls=[call("erp", False, run=f"po-{n}") for n in range(5)] + [call("erp", False)])
    plan = evaluate([FAILING], facts, [], NOW, HOUR)
    assert [(n.rule.id, n.measurement.subject) for n in plan.raised] == [("system-failing", "erp")]

    again = evaluate([FAILING], facts, [opened(1, "system-failing", "erp", timedelta(minutes=5))], NOW, HOUR)
    assert again.raised == [] and [u.alert_id for u in again.refreshed] == [1] and again.renotified == []
    later = evaluate([FAILING], facts, [opened(1, "system-failing", "erp", HOUR)], NOW, HOUR)
    assert [u.alert_id for u in later.renotified] == [1]

    back = AlertFacts(calls=[call("erp", True)])
    assert [
        u.alert_id for u in evaluate([FAILING], back, [opened(1, "system-failing", "erp")], NOW, HOUR).resolved
    ] == [1]
    quiet = evaluate([FAILING], AlertFacts(calls=[]), [opened(1, "system-failing", "erp")], NOW, HOUR)
    assert [(u.alert_id, u.summary) for u in quiet.resolved] == [(1, "erp: cleared (no longer observed)")]


def test_unknown_facts_leave_alerts_as_they_are_and_a_removed_rule_resolves_its_alerts() -> None:
    open_now = [opened(1, "system-failing", "erp"), opened(2, "retired", "x")]
    plan = evaluate([FAILING], AlertFacts(calls=None), open_now, NOW, HOUR)
    assert plan.raised == [] and plan.refreshed == [] and plan.renotified == []
    assert [(u.alert_id, u.summary) for u in plan.resolved] == [(2, "rule retired is no longer in force")]


# --- properties ----------------------------------------------------------------------------------

RULES = [
    rule(AlertKind.SYSTEM_FAILING, "failing", threshold=0.5),
    rule(AlertKind.SYSTEM_FAILING, "failing-slow", threshold=0.2, window=HOUR),
    rule(AlertKind.SLA_BREACHED, "sla"),
    rule(AlertKind.RUN_FAILED, "failed", window=timedelta(days=1)),
]
SYSTEMS = ["erp", "ap", "contracts"]
calls_drawn = st.lists(
    st.builds(call, st.sampled_from(SYSTEMS), st.booleans(), st.integers(0, 90), st.none() | st.just("po-1")),
    max_size=8,
)
facts_drawn = st.builds(
    AlertFacts,
    calls=st.none() | calls_drawn,
    escalated=st.none() | st.dictionaries(st.sampled_from(["pricing", "receiving"]), st.lists(st.just("po-1"))),
    failed_runs=st.none()
    | st.lists(st.builds(FailedRun, workflow_id=st.sampled_from(["a", "b"]), closed_at=st.just(NOW))),
)
steps = st.lists(st.tuples(facts_drawn, st.integers(1, 90)), min_size=1, max_size=8)


def measurement_of(rule_id: str, subject: str, facts: AlertFacts, at: datetime) -> tuple[bool, bool] | None:
    """(measured, breached) of the rule's subject; None when the rule's facts were not gathered."""
    found = next(r for r in RULES if r.id == rule_id).measure(facts, at)
    if found is None:
        return None
    match = [m for m in found if m.subject == subject]
    return (bool(match), bool(match and match[0].breached))


@settings(max_examples=150, deadline=None)
@given(steps=steps)
def test_alerts_stay_unique_resolve_only_when_cleared_and_renotify_only_after_the_interval(
    steps: list[tuple[AlertFacts, int]],
) -> None:
    at, next_id = NOW, 1
    alerts: dict[int, OpenAlert] = {}  # the store, as a model
    for facts, minutes in steps:
        at += timedelta(minutes=minutes)
        plan: AlertPlan = evaluate(RULES, facts, list(alerts.values()), at, HOUR)
        for update in plan.resolved:
            seen = measurement_of(alerts[update.alert_id].rule_id, alerts[update.alert_id].subject, facts, at)
            assert seen is not None and seen[1] is False, "resolved without seeing the condition cleared"
        for update in plan.renotified:
            assert at - alerts[update.alert_id].last_notified_at >= HOUR
        for update in plan.refreshed:
            assert at - alerts[update.alert_id].last_notified_at < HOUR
        for alert in alerts.values():  # a breach still seen is announced again once the interval is over
            seen = measurement_of(alert.rule_id, alert.subject, facts, at)
            if seen == (True, True) and at - alert.last_notified_at >= HOUR:
                assert alert.alert_id in {u.alert_id for u in plan.renotified}
        for new in plan.raised:
            assert new.measurement.breached
            assert (new.rule.id, new.measurement.subject) not in {(a.rule_id, a.subject) for a in alerts.values()}
        for update in plan.resolved:
            del alerts[update.alert_id]
        for update in plan.renotified:
            alerts[update.alert_id] = alerts[update.alert_id].model_copy(update={"last_notified_at": at})
        for new in plan.raised:
            alerts[next_id] = OpenAlert(alert_id=next_id, rule_id=new.rule.id, subject=new.measurement.subject,
                                        last_notified_at=at)  # fmt: skip
            next_id += 1
        keys = [(a.rule_id, a.subject) for a in alerts.values()]
        assert len(keys) == len(set(keys)), "two open alerts for one rule and subject"
