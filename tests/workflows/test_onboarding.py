"""Supplier onboarding workflow over fake systems, with time skipping for the review SLA."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError

from adapters.errors import BusinessRuleError
from domain.decisions import ExceptionAction, ExceptionResolution
from domain.onboarding import (
    OnboardingOutcome,
    OnboardingResult,
    OnboardingStage,
    OnboardingStatus,
    OnboardSupplierInput,
    RejectionKind,
    onboarding_workflow_id,
)
from domain.supplier import SupplierOnboardingRequest
from tests.examples import supplier_request
from tests.support.fakes import APEX
from tests.support.harness import Harness
from workflows.onboarding import SupplierOnboardingWorkflow


async def start(h: Harness, request: SupplierOnboardingRequest, sla: timedelta = timedelta(hours=24)) -> WorkflowHandle:
    return await h.client.start_workflow(
        SupplierOnboardingWorkflow.run,
        OnboardSupplierInput(request=request, review_sla=sla),
        id=onboarding_workflow_id(request.source.id) + f"-{uuid.uuid4().hex[:6]}",
        task_queue=h.task_queue,
        result_type=OnboardingResult,
    )


async def until_stage(handle: WorkflowHandle, stage: OnboardingStage) -> OnboardingStatus:
    for _ in range(200):
        status = await handle.query(SupplierOnboardingWorkflow.status)
        if status.stage is stage:
            return status
    raise AssertionError(f"never reached {stage}; last {status.stage}")


def erp_creates(h: Harness) -> int:
    return sum(1 for name, _ in h.systems.erp.calls if name == "create_supplier")


async def test_new_supplier_is_created_with_site_bank_account_and_cross_reference(harness: Harness) -> None:
    request = supplier_request("new-supplier")
    result: OnboardingResult = await (await start(harness, request)).result()

    assert result.outcome is OnboardingOutcome.ONBOARDED
    erp = harness.systems.erp
    assert result.erp_supplier_id == "SUP-0007"
    assert erp.suppliers["SUP-0007"].external_ids == {"vendor_management": "VM-200417"}
    assert len(erp.sites["SUP-0007"]) == 1 and len(erp.bank_accounts["SUP-0007"]) == 1
    assert harness.systems.vendor_management.links == {"VM-200417": "SUP-0007"}
    ref = harness.systems.store.find_cross_reference("supplier", "vendor_management", "VM-200417", "erp")
    assert ref is not None and ref.target_id == "SUP-0007"
    assert "supplier.onboarded" in harness.systems.store.event_types()


async def test_bad_routing_number_is_rejected_before_any_system_changes(harness: Harness) -> None:
    result: OnboardingResult = await (await start(harness, supplier_request("bad-routing-number"))).result()

    assert result.outcome is OnboardingOutcome.REJECTED
    assert result.rejection_kind is RejectionKind.VALIDATION
    assert [r.field for r in result.reasons] == ["bank_account.routing_number"]
    assert "ABA" in result.reasons[0].reason and "check digit" in result.reasons[0].reason
    assert harness.systems.erp.calls == [] and harness.systems.screening.asked == []
    assert "021000022" not in result.model_dump_json()


async def test_excluded_supplier_is_a_compliance_block_citing_the_record(harness: Harness) -> None:
    harness.systems.screening.exclusions = [APEX]
    result: OnboardingResult = await (await start(harness, supplier_request("excluded-on-leie"))).result()

    assert result.rejection_kind is RejectionKind.COMPLIANCE_BLOCK
    assert result.exclusion_matches[0].record_name == "APEX DURABLE MEDICAL EQUIPMENT INC"
    assert "APEX DURABLE MEDICAL EQUIPMENT INC" in result.reasons[0].reason
    assert erp_creates(harness) == 0


async def test_reinstated_exclusion_does_not_block(harness: Harness) -> None:
    harness.systems.screening.exclusions = [APEX.model_copy(update={"reindate": "20240101"})]
    result: OnboardingResult = await (await start(harness, supplier_request("excluded-on-leie"))).result()
    assert result.outcome is OnboardingOutcome.ONBOARDED


async def test_tin_mismatch_rejects(harness: Harness) -> None:
    harness.systems.screening.tin_codes["452873311"] = 3
    result: OnboardingResult = await (await start(harness, supplier_request("new-supplier"))).result()
    assert result.rejection_kind is RejectionKind.TIN_MISMATCH
    assert result.reasons[0].field == "tax_id.value"
    assert erp_creates(harness) == 0


async def test_same_ein_links_the_existing_supplier_without_a_second_one(harness: Harness) -> None:
    result: OnboardingResult = await (await start(harness, supplier_request("existing-supplier"))).result()

    assert result.outcome is OnboardingOutcome.LINKED
    assert result.erp_supplier_id == "SUP-0002"
    assert erp_creates(harness) == 0
    assert harness.systems.contracts.links == [("CTR-2026-0107", "SUP-0002")]
    assert harness.systems.erp.suppliers["SUP-0002"].external_ids["vendor_management"] == "VM-200420"


async def test_possible_duplicate_waits_for_review_and_approval_creates(harness: Harness) -> None:
    handle = await start(harness, supplier_request("possible-duplicate"))
    status = await until_stage(handle, OnboardingStage.AWAITING_REVIEW)
    assert status.assigned_team == "vendor-master-data"
    assert status.duplicate_candidates[0].erp_supplier_id == "SUP-0001"

    await handle.execute_update(
        SupplierOnboardingWorkflow.resolve_exception,
        ExceptionResolution(
            action=ExceptionAction.APPROVE, reason="different company, other state", resolved_by="jdoe"
        ),
    )
    result: OnboardingResult = await handle.result()
    assert result.outcome is OnboardingOutcome.ONBOARDED
    assert result.review is not None and result.review.resolution.action is ExceptionAction.APPROVE
    assert erp_creates(harness) == 1


async def test_possible_duplicate_rejected_in_review_creates_nothing(harness: Harness) -> None:
    handle = await start(harness, supplier_request("possible-duplicate"))
    await until_stage(handle, OnboardingStage.AWAITING_REVIEW)
    await handle.execute_update(
        SupplierOnboardingWorkflow.resolve_exception,
        ExceptionResolution(action=ExceptionAction.REJECT, reason="same company"),
    )
    result: OnboardingResult = await handle.result()
    assert result.rejection_kind is RejectionKind.REVIEW_REJECTED
    assert erp_creates(harness) == 0


async def test_review_escalates_after_its_sla(harness: Harness) -> None:
    handle = await start(harness, supplier_request("possible-duplicate"), sla=timedelta(hours=4))
    await until_stage(handle, OnboardingStage.AWAITING_REVIEW)
    await harness.env.sleep(timedelta(hours=5))

    status = await handle.query(SupplierOnboardingWorkflow.status)
    assert status.escalation_level == 1
    assert status.assigned_team == "vendor-master-data-managers"
    for _ in range(100):  # the escalation event is published by an activity: poll for it
        if "supplier.review_escalated" in harness.systems.store.event_types():
            break
        await asyncio.sleep(0.02)
    assert "supplier.review_escalated" in harness.systems.store.event_types()

    await handle.execute_update(
        SupplierOnboardingWorkflow.resolve_exception,
        ExceptionResolution(action=ExceptionAction.APPROVE, reason="checked late"),
    )
    result: OnboardingResult = await handle.result()
    assert result.escalation_level == 1 and result.outcome is OnboardingOutcome.ONBOARDED


async def test_decision_is_refused_when_not_awaiting_review_and_only_once(harness: Harness) -> None:
    handle = await start(harness, supplier_request("possible-duplicate"))
    await until_stage(handle, OnboardingStage.AWAITING_REVIEW)
    decision = ExceptionResolution(action=ExceptionAction.REJECT, reason="duplicate of SUP-0001")
    await handle.execute_update(SupplierOnboardingWorkflow.resolve_exception, decision)
    await handle.result()
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # closed: a second decision is never applied
        await handle.execute_update(SupplierOnboardingWorkflow.resolve_exception, decision)

    other = await start(harness, supplier_request("new-supplier"))
    await other.result()
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):  # completed: the update cannot be delivered
        await other.execute_update(SupplierOnboardingWorkflow.resolve_exception, decision)


async def test_failure_after_erp_create_deactivates_and_removes_the_cross_reference(harness: Harness) -> None:
    harness.systems.contracts.seed("CTR-LOCKED", None)
    harness.systems.contracts.fail_link = BusinessRuleError("contracts", "contract_locked", "contract is locked")
    request = supplier_request("new-supplier", contract_refs=["CTR-LOCKED"])
    with pytest.raises(WorkflowFailureError):
        await (await start(harness, request)).result()

    erp = harness.systems.erp
    assert erp.suppliers["SUP-0007"].status.value == "inactive"
    assert harness.systems.store.references == {}
    assert "supplier.onboarded" not in harness.systems.store.event_types()


async def test_failure_in_cross_reference_is_compensated(harness: Harness) -> None:
    harness.systems.store.fail_record = BusinessRuleError("store", "constraint", "refused")
    with pytest.raises(WorkflowFailureError):
        await (await start(harness, supplier_request("new-supplier"))).result()
    assert harness.systems.erp.suppliers["SUP-0007"].status.value == "inactive"


async def test_transient_erp_errors_are_retried_and_create_one_supplier(harness: Harness) -> None:
    from tests.support.fakes import transient

    harness.systems.erp.fail_next = [transient(), transient()]
    result: OnboardingResult = await (await start(harness, supplier_request("new-supplier"))).result()
    assert result.outcome is OnboardingOutcome.ONBOARDED
    assert len([s for s in harness.systems.erp.suppliers.values() if s.legal_name.startswith("Harborview")]) == 1


async def test_validator_refuses_a_decision_while_not_awaiting_review(harness: Harness) -> None:
    harness.systems.erp.fail_next = [BusinessRuleError("erp", "locked", "supplier master locked")]
    handle = await start(harness, supplier_request("possible-duplicate"))
    # find_erp_matches fails once (non-retryable): the run fails before review; refused while matching
    with pytest.raises((WorkflowUpdateFailedError, RPCError)):
        await handle.execute_update(
            SupplierOnboardingWorkflow.resolve_exception,
            ExceptionResolution(action=ExceptionAction.APPROVE, reason="early"),
        )
