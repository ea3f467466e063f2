"""A sync's summary and drift rows: accuracy counts only what is in sync after the run."""

from __future__ import annotations

from domain.master_data.matching import Matches, Rejected
from domain.master_data.policy import Entity, MasterSystem, default_policy
from domain.master_data.summary import drift_rows, summarise
from domain.master_data.survivorship import FieldValue, reconcile

VM, ERP, AN = MasterSystem.VENDOR_MANAGEMENT, MasterSystem.ERP, MasterSystem.ANALYTICS
SUPPLIERS = default_policy().entities[Entity.SUPPLIERS]


def reconciled() -> list:  # type: ignore[type-arg]
    in_sync = {
        VM: {"legal_name": FieldValue("A")},
        ERP: {"legal_name": FieldValue("A")},
        AN: {"legal_name": FieldValue("A")},
    }
    fixable = {
        VM: {"legal_name": FieldValue("B")},
        ERP: {"legal_name": FieldValue("b")},
        AN: {"legal_name": FieldValue("B")},
    }
    sensitive = {VM: {"bank_account": FieldValue("1111")}, ERP: {"bank_account": FieldValue("2222")}, AN: {}}
    return [reconcile(SUPPLIERS, r) for r in (in_sync, fixable, sensitive)]


def matches(groups: int) -> Matches:
    found = Matches(groups=[{}] * groups)
    found.rejected = [Rejected(((ERP, "SUP-9"), (ERP, "SUP-8")), "more than one record in erp")]
    return found


def test_accuracy_counts_corrected_records_as_in_sync_and_sets_those_awaiting_a_person_apart() -> None:
    summary = summarise("suppliers", {"erp": 4, "vendor_management": 3}, matches(3), reconciled(), dry_run=False)
    assert (summary.in_sync, summary.compared, summary.corrected, summary.conflicts) == (2, 4, 1, 1)
    assert summary.awaiting_decision == 2  # the bank conflict and the rejected group
    assert summary.accuracy == 1.0
    assert summary.drifted == {"erp": {"legal_name": 1}, "vendor_management": {"bank_account": 1}}
    assert summary.rejected == ["erp:SUP-9, erp:SUP-8: more than one record in erp"]


def test_a_difference_the_policy_keeps_counts_against_accuracy() -> None:
    kept = reconcile(SUPPLIERS, {VM: {"tax_id": FieldValue(None)}, ERP: {"tax_id": FieldValue("364412098")},
                                 AN: {}})  # fmt: skip
    summary = summarise("suppliers", {}, Matches(groups=[{}]), [kept], dry_run=False)
    assert (summary.kept, summary.in_sync, summary.accuracy) == (1, 0, 0.0)


def test_a_dry_run_corrects_nothing_and_says_what_it_would_do() -> None:
    results = reconciled()
    summary = summarise("suppliers", {}, matches(3), results, dry_run=True)
    assert (summary.in_sync, summary.corrected, summary.accuracy) == (1, 0, 0.5)
    (row,) = drift_rows("VM-2", results[1], {ERP: "SUP-0002"}, dry_run=True)
    assert (row.system, row.field, row.before, row.surviving, row.action) == (
        "erp",
        "legal_name",
        "b",
        "B",
        "would correct",
    )


def test_sensitive_values_are_masked_in_the_rows() -> None:
    rows = drift_rows("VM-3", reconciled()[2], {}, dry_run=False)
    assert {row.before for row in rows} <= {"•••••1111", "•••••2222"}
    assert {row.action for row in rows} == {"conflict"}
