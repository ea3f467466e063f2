"""The master-data sync workflow over fake systems: corrections applied and a second run in sync,
a dry run that changes nothing, a refused record that does not stop the others, batches across
continue-as-new, and a sensitive difference that becomes a task the steward decides."""

from __future__ import annotations

import asyncio
import uuid

from temporalio.client import WorkflowHandle

from domain.decisions import VENDOR_MASTER_TEAM, ExceptionAction, ExceptionResolution, manager_team
from domain.master_data.policy import Entity, MasterSystem
from domain.master_data.summary import SyncSummary
from domain.master_data.sync import ConflictOutcome, MasterDataSyncInput
from tests.support.harness import Harness, Systems
from workflows.master_data_conflict import MasterDataConflictWorkflow
from workflows.master_data_sync import MasterDataSyncWorkflow
from workflows.status_sync import SupplierStatusSyncWorkflow

VM, ERP, CON, AN = (MasterSystem.VENDOR_MANAGEMENT, MasterSystem.ERP, MasterSystem.CONTRACTS,
                    MasterSystem.ANALYTICS)  # fmt: skip
S = Entity.SUPPLIERS


def seed_supplier(systems: Systems, n: int, *, erp_name: str | None = None, erp_bank: str = "b1",
                  analytics: bool = True, vm_terms: str = "NET30") -> None:  # fmt: skip
    vendor, erp = f"VM-{n}", f"SUP-{n}"
    name = f"Supplier {n} Inc"
    md = systems.master_data
    md[VM].hold(S, vendor, ((ERP, erp),), tax_id=f"{n:09d}", legal_name=name, status="active",
                payment_terms=vm_terms, bank_account="b1", erp_supplier_id=erp)  # fmt: skip
    md[ERP].hold(S, erp, ((VM, vendor),), tax_id=f"{n:09d}", legal_name=erp_name or name, status="active",
                 payment_terms="NET30", bank_account=erp_bank, erp_supplier_id=erp)  # fmt: skip
    if analytics:
        md[AN].hold(S, vendor, ((VM, vendor),), legal_name=name, status="active", erp_supplier_id=erp)


async def sync(harness: Harness, **options: object) -> SyncSummary:
    return await harness.client.execute_workflow(
        MasterDataSyncWorkflow.run,
        MasterDataSyncInput(entity=S, **options),  # type: ignore[arg-type]
        id=f"master-data-sync-suppliers-manual-{uuid.uuid4().hex[:8]}",
        task_queue=harness.task_queue,
    )


async def test_corrections_are_applied_and_a_second_run_finds_everything_in_sync(harness: Harness) -> None:
    seed_supplier(harness.systems, 1, erp_name="SUPPLIER ONE")
    seed_supplier(harness.systems, 2, analytics=False)
    seed_supplier(harness.systems, 3, vm_terms="NET90")

    first = await sync(harness)

    md = harness.systems.master_data
    assert md[ERP].value(S, "SUP-1", "legal_name") == "Supplier 1 Inc"
    assert md[VM].value(S, "VM-3", "payment_terms") == "NET30"
    assert md[AN].value(S, "VM-2", "legal_name") == "Supplier 2 Inc"
    assert (first.matched, first.corrected, first.created, first.conflicts) == (3, 2, 1, 0)
    assert first.accuracy == 1.0
    second = await sync(harness)
    assert (second.in_sync, second.drifted, second.corrected, second.accuracy) == (3, {}, 0, 1.0)


async def test_a_dry_run_reports_and_changes_nothing(harness: Harness) -> None:
    seed_supplier(harness.systems, 1, erp_name="SUPPLIER ONE")

    summary = await sync(harness, dry_run=True)

    assert summary.dry_run and summary.drifted == {"erp": {"legal_name": 1}}
    assert harness.systems.master_data[ERP].writes == []
    assert summary.accuracy == 0.0


async def test_a_refused_record_is_reported_and_the_others_are_corrected(harness: Harness) -> None:
    seed_supplier(harness.systems, 1, erp_name="SUPPLIER ONE")
    seed_supplier(harness.systems, 2, erp_name="SUPPLIER TWO")
    harness.systems.master_data[ERP].refuse.add("SUP-1")

    summary = await sync(harness)

    assert summary.failed == ["VM-1"]
    assert harness.systems.master_data[ERP].value(S, "SUP-2", "legal_name") == "Supplier 2 Inc"
    assert (summary.in_sync, summary.matched) == (1, 2)
    rows = next(iter(harness.systems.syncs.plans.values()))
    assert [r.outcome for r in rows if r.local_id == "SUP-1"] == ["failed: SUP-1 is locked"]


async def test_many_batches_continue_as_new_and_every_record_is_corrected(harness: Harness) -> None:
    for n in range(1, 31):
        seed_supplier(harness.systems, n, erp_name=f"OLD NAME {n}")

    summary = await sync(harness, batch_size=1)  # 30 batches: more than one run's worth

    assert summary.corrected == 30 and summary.accuracy == 1.0
    assert all(harness.systems.master_data[ERP].value(S, f"SUP-{n}", "legal_name") == f"Supplier {n} Inc"
               for n in range(1, 31))  # fmt: skip


async def test_a_bank_account_that_differs_is_a_task_for_the_steward_never_a_change(harness: Harness) -> None:
    seed_supplier(harness.systems, 1, erp_bank="b2")

    summary = await sync(harness)

    assert (summary.conflicts, summary.awaiting_decision, summary.accuracy) == (1, 1, 1.0)
    assert harness.systems.master_data[VM].value(S, "VM-1", "bank_account") == "b1"
    conflict_id = "master-data-conflict-suppliers-VM-1-vendor_management-bank_account"
    handle: WorkflowHandle[MasterDataConflictWorkflow, object] = harness.client.get_workflow_handle_for(
        MasterDataConflictWorkflow.run, conflict_id
    )
    status = await handle.query(MasterDataConflictWorkflow.status)
    assert status.open_exception is not None  # time skips while the sync runs: it may have escalated already
    assert status.open_exception.team in (VENDOR_MASTER_TEAM, manager_team(VENDOR_MASTER_TEAM))
    assert status.open_exception.evidence["before"] == "•••••b1"

    decided = await handle.execute_update(
        MasterDataConflictWorkflow.resolve_exception,
        ExceptionResolution(
            action=ExceptionAction.APPROVE, reason="called the supplier, ERP is right", resolved_by="steward"
        ),
    )
    result = await handle.result()
    assert decided.workflow_id == conflict_id
    assert result.outcome is ConflictOutcome.CORRECTED_AT_SOURCE
    assert harness.systems.master_data[VM].value(S, "VM-1", "bank_account") == "b1"


async def test_a_correction_the_system_cannot_take_is_kept_and_reported_not_attempted(harness: Harness) -> None:
    seed_supplier(harness.systems, 1)
    harness.systems.master_data[VM].hold(S, "VM-1", ((ERP, "SUP-1"),), tax_id=f"{1:09d}", legal_name="Supplier 1 Inc",
                                         status=None, payment_terms="NET30", bank_account="b1",
                                         erp_supplier_id="SUP-1")  # fmt: skip
    harness.systems.master_data[VM].read_only.add("status")

    summary = await sync(harness)

    assert (summary.kept, summary.in_sync, summary.corrected, summary.accuracy) == (1, 0, 0, 0.0)
    assert harness.systems.master_data[VM].writes == []
    (row,) = next(iter(harness.systems.syncs.plans.values()))
    assert (row.field, row.action, row.rule) == (
        "status",
        "keep",
        "most_recent:erp>authority; not writable in vendor_management",
    )


async def test_an_erp_status_that_differs_goes_through_the_status_sync_with_the_open_pos(harness: Harness) -> None:
    md = harness.systems.master_data
    md[VM].hold(S, "VM-100001", ((ERP, "SUP-0001"),), tax_id="364412098", legal_name="Lakeshore", status="hold")
    md[ERP].hold(S, "SUP-0001", ((VM, "VM-100001"),), tax_id="364412098", legal_name="Lakeshore", status="active")

    summary = await sync(harness)

    status_sync = harness.client.get_workflow_handle_for(SupplierStatusSyncWorkflow.run, "supplier-status-VM-100001")
    for _ in range(50):  # the status sync is its own run (abandoned by the sync): it applies the hold next
        if harness.systems.erp.suppliers["SUP-0001"].status.value == "on_hold":
            break
        await asyncio.sleep(0.1)
    assert harness.systems.erp.suppliers["SUP-0001"].status.value == "on_hold"
    assert md[ERP].writes == []  # not written by the sync itself
    assert summary.corrected == 1
    assert (await status_sync.query(SupplierStatusSyncWorkflow.status)).erp_status == "on_hold"
