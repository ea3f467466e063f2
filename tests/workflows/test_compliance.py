"""Scheduled compliance over fakes: a supplier newly on the exclusion list is suspended in vendor
management (which holds it in the ERP through the status sync) with a review task for compliance,
and a false match rejected is reinstated; credentials warn once per band and expire into a hold."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.client import WorkflowHandle

from domain.compliance import ComplianceInput, ComplianceResult
from domain.decisions import COMPLIANCE_TEAM, ExceptionAction, ExceptionResolution, manager_team
from domain.exclusions import ExclusionRecord
from domain.supplier import CredentialDocument, VendorRegistration
from tests.support.harness import Harness
from workflows.compliance import ComplianceRescreenWorkflow, CredentialExpiryWorkflow, ReviewTaskWorkflow


def register(harness: Harness, vendor_id: str, name: str, *documents: CredentialDocument) -> None:
    harness.systems.vendor_management.registrations[vendor_id] = VendorRegistration(
        vendor_id=vendor_id, legal_name=name, status="active", erp_supplier_id=f"SUP-{vendor_id}",
        documents=list(documents),
    )  # fmt: skip


async def run(harness: Harness, workflow: object) -> ComplianceResult:
    result: ComplianceResult = await harness.client.execute_workflow(
        workflow,  # type: ignore[arg-type]
        ComplianceInput(),
        id=f"test-{uuid.uuid4().hex[:8]}",
        task_queue=harness.task_queue,
    )
    return result


async def test_a_supplier_newly_excluded_is_suspended_and_reviewed_and_a_false_match_reinstated(
    harness: Harness,
) -> None:
    register(harness, "VM-1", "Harborview Medical Supply LLC")
    register(harness, "VM-2", "Northgate Surgical Supply LLC")
    harness.systems.screening.exclusions = [ExclusionRecord(busname="HARBORVIEW MEDICAL SUPPLY", excltype="1128b7",
                                                            excldate="20261101")]  # fmt: skip

    result = await run(harness, ComplianceRescreenWorkflow.run)

    assert (result.checked, result.held, result.tasks) == (2, ["VM-1"], ["compliance-review-VM-1"])
    changes = list(harness.systems.vendor_management.status_changes.values())
    assert changes == [("VM-1", "suspended", "LEIE exclusion 1128b7 since 20261101: HARBORVIEW MEDICAL SUPPLY")]
    assert "supplier.excluded" in harness.systems.store.event_types()
    task: WorkflowHandle[ReviewTaskWorkflow, object] = harness.client.get_workflow_handle_for(
        ReviewTaskWorkflow.run, "compliance-review-VM-1"
    )
    status = await task.query(ReviewTaskWorkflow.status)
    assert status.open_exception is not None
    assert status.open_exception.team in (COMPLIANCE_TEAM, manager_team(COMPLIANCE_TEAM))
    await task.execute_update(ReviewTaskWorkflow.resolve_exception, ExceptionResolution(
        action=ExceptionAction.REJECT, reason="a different Harborview, other state", resolved_by="cora"))  # fmt: skip
    await task.result()
    assert list(harness.systems.vendor_management.status_changes.values())[-1][:2] == ("VM-1", "reinstated")


async def test_credentials_warn_once_per_band_and_an_expired_one_holds_the_supplier(harness: Harness) -> None:
    today = (await harness.env.get_current_time()).date()
    register(harness, "VM-1", "Lakeshore", CredentialDocument(kind="certificate_of_insurance",
                                                              expires_on=today + timedelta(days=20)))  # fmt: skip
    register(harness, "VM-2", "Northgate", CredentialDocument(kind="state_license", expires_on=today))

    # Waiting for the runs must not skip time: the renewal task the first run opens has SLA timers,
    # and a leap past them of 20 days or more expires VM-1's insurance too (one loaded run
    # published a second `supplier.credential_expired`, which only VM-1 could be).
    with harness.env.auto_time_skipping_disabled():
        first = await run(harness, CredentialExpiryWorkflow.run)
        second = await run(harness, CredentialExpiryWorkflow.run)

    assert first.held == ["VM-2"] and len(first.warned) == 1 and len(first.tasks) == 1
    assert second.tasks == []  # the renewal task is already open
    events = harness.systems.store.event_types()
    assert events.count("supplier.credential_expiring") == 1 and events.count("supplier.credential_expired") == 1
    changes = list(harness.systems.vendor_management.status_changes.values())
    assert changes == [("VM-2", "credential_expired", f"state_license expired on {today.isoformat()}")]
