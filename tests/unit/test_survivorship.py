"""The survivorship policy and the golden record: each rule, the conflicts a person must settle,
and (hypothesis) that applying the corrections and reconciling again finds nothing to correct."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.master_data.policy import Entity, EntityPolicy, FieldRule, MasterSystem, default_policy, parse_policy
from domain.master_data.survivorship import (
    Action,
    ConflictKind,
    FieldValue,
    SourceRecords,
    normalise,
    reconcile,
    shown,
)

VM, ERP, CON, AN = (MasterSystem.VENDOR_MANAGEMENT, MasterSystem.ERP, MasterSystem.CONTRACTS,
                    MasterSystem.ANALYTICS)  # fmt: skip
T0 = datetime(2026, 11, 1, tzinfo=UTC)
SUPPLIERS = default_policy().entities[Entity.SUPPLIERS]


def values(**fields: object) -> dict[str, FieldValue]:
    return {name: FieldValue(value) for name, value in fields.items()}


def test_the_default_policy_names_an_authority_for_the_healthcare_fields() -> None:
    rules = SUPPLIERS.fields
    assert rules["legal_name"].authorities == [VM]
    assert rules["payment_terms"].authorities == [ERP]
    assert rules["bank_account"].sensitive and rules["tax_id"].sensitive
    assert rules["unspsc_categories"].fallback == "union"


def test_a_policy_error_names_the_field_and_the_reason() -> None:
    field = '{"systems": ["erp"], "authorities": ["contracts"]}'
    bad = f'{{"version": 1, "entities": {{"suppliers": {{"system_of_record": "erp", "fields": {{"x": {field}}}}}}}}}'
    with pytest.raises(ValidationError) as raised:
        parse_policy(bad)
    error = raised.value.errors()[0]
    assert error["loc"][:4] == ("entities", "suppliers", "fields", "x")
    assert "not among the systems" in error["msg"]


def test_the_authority_wins_and_the_others_are_corrected() -> None:
    records: SourceRecords = {
        VM: values(legal_name="Acme Medical  Supply", payment_terms="NET30"),
        ERP: values(legal_name="ACME MED SUPPLY", payment_terms="NET45"),
        AN: values(legal_name="Acme Medical Supply"),
    }
    result = reconcile(SUPPLIERS, records)
    assert result.golden["legal_name"].value == "Acme Medical Supply"
    assert result.golden["legal_name"].rule == "authority:vendor_management"
    assert result.golden["payment_terms"].value == "NET45"
    drifted = {(d.system, d.field): d for d in result.drifts}
    assert drifted[(ERP, "legal_name")].action is Action.CORRECT
    assert drifted[(VM, "payment_terms")].after == "NET45"
    assert (AN, "legal_name") not in drifted  # whitespace is not drift


def test_a_sensitive_difference_is_a_conflict_never_a_correction() -> None:
    records: SourceRecords = {
        VM: values(bank_account="021000021-99887766"),
        ERP: values(bank_account="021000021-11223344"),
    }
    result = reconcile(SUPPLIERS, records)
    (drift,) = [d for d in result.drifts if d.field == "bank_account"]
    assert drift.action is Action.CONFLICT and drift.conflict is ConflictKind.SENSITIVE_DIFFERS
    assert shown(drift.before, drift.sensitive) == "•••••7766"
    assert not any(d.action is Action.CORRECT for d in result.drifts if d.field == "bank_account")


def test_two_authorities_that_disagree_go_to_a_person() -> None:
    policy = EntityPolicy(system_of_record=VM, fields={"status": FieldRule(systems=[VM, ERP], authorities=[VM, ERP])})
    result = reconcile(policy, {VM: values(status="suspended"), ERP: values(status="active")})
    assert result.golden["status"].conflict is ConflictKind.AUTHORITIES_DISAGREE
    assert {d.action for d in result.drifts} == {Action.CONFLICT}


def test_a_record_the_system_of_record_does_not_know_is_an_orphan_for_a_person() -> None:
    result = reconcile(SUPPLIERS, {ERP: values(legal_name="Ghost Supply Co")})
    assert result.record_conflict is ConflictKind.UNKNOWN_TO_SYSTEM_OF_RECORD
    assert result.drifts == [] and not result.in_sync


def test_a_record_missing_where_golden_records_go_is_created() -> None:
    result = reconcile(SUPPLIERS, {VM: values(legal_name="Acme"), ERP: values(legal_name="Acme")})
    assert [(d.system, d.action) for d in result.drifts] == [(AN, Action.CREATE)]


def test_most_recent_wins_without_an_authority_and_ties_go_by_policy_order() -> None:
    policy = EntityPolicy(system_of_record=VM, fields={"phone": FieldRule(systems=[VM, ERP])})
    newer = {VM: {"phone": FieldValue("555-0100", T0)}, ERP: {"phone": FieldValue("555-0199", T0 + timedelta(1))}}
    assert reconcile(policy, newer).golden["phone"].value == "555-0199"
    tie = {VM: {"phone": FieldValue("555-0100")}, ERP: {"phone": FieldValue("555-0199")}}
    assert reconcile(policy, tie).golden["phone"].rule == "most_recent:vendor_management"


def test_never_overwrite_fills_an_empty_value_and_keeps_a_different_one() -> None:
    policy = EntityPolicy(
        system_of_record=VM,
        fields={"gln": FieldRule(systems=[VM, ERP, CON], fallback="never_overwrite")},
    )
    result = reconcile(policy, {VM: values(gln="0614141000005"), ERP: values(gln=""), CON: values(gln="0614141999996")})
    actions = {d.system: d.action for d in result.drifts}
    assert actions == {ERP: Action.CORRECT, CON: Action.KEEP}


def test_union_gives_every_system_every_category_once() -> None:
    result = reconcile(
        SUPPLIERS,
        {
            VM: values(unspsc_categories=["42000000", "42140000"]),
            ERP: values(unspsc_categories=["42140000", "42140000"]),
            AN: values(unspsc_categories=None),
        },
    )
    assert result.golden["unspsc_categories"].value == ["42000000", "42140000"]
    assert {d.system for d in result.drifts} == {ERP, AN}


def test_normalise_treats_empty_values_as_none_and_lists_as_sets() -> None:
    assert normalise("  ") is None and normalise([]) is None and normalise({"a": ""}) is None
    assert normalise(["b", "a", "a"]) == ["a", "b"]
    assert normalise({"city": " Akron ", "line2": None}) == {"city": "Akron"}


# -- property: corrections applied, a second reconciliation finds nothing more to correct ----------

texts = st.one_of(st.none(), st.sampled_from(["", "  ", "Acme", "ACME", "Acme  Medical", "Beta", "NET30", "NET45"]))
lists = st.one_of(st.none(), st.lists(st.sampled_from(["42000000", "42140000", "MBE", "WBE"]), max_size=3))
stamps = st.one_of(st.none(), st.integers(0, 5).map(lambda d: T0 + timedelta(days=d)))


@st.composite
def source_records(draw: st.DrawFn) -> SourceRecords:
    systems = draw(st.sets(st.sampled_from([VM, ERP, CON, AN]), min_size=1))
    records: SourceRecords = {}
    for system in systems:
        fields = {}
        for name, rule in SUPPLIERS.fields.items():
            if system in rule.systems and draw(st.booleans()):
                fields[name] = FieldValue(draw(lists if rule.is_list else texts), draw(stamps))
        records[system] = fields
    return records


@settings(max_examples=300, deadline=None)
@given(source_records())
def test_applying_the_corrections_leaves_nothing_to_correct(records: SourceRecords) -> None:
    first = reconcile(SUPPLIERS, records)
    later = T0 + timedelta(days=30)
    fixed = {system: dict(fields) for system, fields in records.items()}
    for drift in first.drifts:
        if drift.action is Action.CORRECT:
            fixed[drift.system][drift.field] = FieldValue(drift.after, later)
        elif drift.action is Action.CREATE:
            fixed[drift.system] = {
                name: FieldValue(value, later)
                for name, value in first.golden_values(SUPPLIERS.fields).items()
                if drift.system in SUPPLIERS.fields[name].systems and value is not None
            }
    second = reconcile(SUPPLIERS, fixed)
    assert [d for d in second.drifts if d.action in (Action.CORRECT, Action.CREATE)] == []
    assert {name: d.value for name, d in second.golden.items()} == {name: d.value for name, d in first.golden.items()}


def test_a_value_that_fills_an_empty_authority_is_followed_by_every_system() -> None:
    records: SourceRecords = {
        VM: values(erp_supplier_id="SUP-0042"),
        ERP: values(),
        CON: values(erp_supplier_id="SUP-0041"),
    }
    result = reconcile(SUPPLIERS, records)
    assert result.golden["erp_supplier_id"].rule == "never_overwrite>authority"
    assert {d.system: d.action for d in result.drifts if d.field == "erp_supplier_id"} == {
        ERP: Action.CORRECT,
        CON: Action.CORRECT,
    }


def test_a_sensitive_value_missing_in_one_system_is_reported_never_filled_nor_a_task() -> None:
    result = reconcile(SUPPLIERS, {VM: values(tax_id=None), ERP: values(tax_id="364412098")})
    (drift,) = [d for d in result.drifts if d.field == "tax_id"]
    assert (drift.system, drift.action, drift.conflict) == (VM, Action.KEEP, None)
