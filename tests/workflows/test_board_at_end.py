"""A run that ended is no team's work: its Team and Decision search attributes are unset on every
end path (completed, cancelled, rejected, failed) while its Stage and Outcome stay, so a team's
queue in the Temporal UI (`SupplyBridgeTeam = "pricing"`) never lists a closed run."""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle

from adapters.errors import BusinessRuleError
from domain.decisions import ExceptionAction, ExceptionResolution
from domain.onboarding import OnboardingStage
from domain.po_models import CancelRequest
from domain.purchasing import ReceiptLine
from tests.examples import supplier_request
from tests.support.harness import Harness, Systems
from tests.workflows.po_support import invoice, purchase_order, start_invoice, start_po, until, with_procurement_seed
from tests.workflows.test_onboarding import start, until_stage
from workflows import search_attributes as sa
from workflows.invoice import InvoiceWorkflow
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow


@pytest.fixture
async def systems(systems: Systems) -> Systems:
    with_procurement_seed(systems)
    erp = systems.procurement
    await erp.create_purchase_order(purchase_order(), idempotency_key="seed")
    await erp.record_receipt(
        "PO-2026-000451",
        [ReceiptLine(line=1, quantity=Decimal(20), uom="CS"), ReceiptLine(line=2, quantity=Decimal(10), uom="BX")],
        received_by="dock",
        idempotency_key="seed-receipt",
    )
    return systems


async def board_of(handle: WorkflowHandle) -> dict[str, str | None]:
    found = (await handle.describe()).typed_search_attributes
    return {key.name: found.get(key) for key in (sa.STAGE, sa.TEAM, sa.DECISION, sa.OUTCOME)}


def ended(stage: str, outcome: str | None) -> dict[str, str | None]:
    return {sa.STAGE.name: stage, sa.TEAM.name: None, sa.DECISION.name: None, sa.OUTCOME.name: outcome}


async def test_a_po_cancelled_while_purchasing_waits_for_the_vendor_is_no_longer_purchasing_work(
    harness: Harness,
) -> None:
    handle = await start_po(harness, purchase_order(po_number="PO-2026-000901"))
    await until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    assert (await board_of(handle))[sa.TEAM.name] == "purchasing"

    await handle.execute_update(PurchaseOrderWorkflow.cancel, CancelRequest(reason="no longer needed"))
    await handle.result()
    assert await board_of(handle) == ended("completed", "cancelled")


async def test_a_po_rejected_in_its_pricing_approval_keeps_no_team_and_no_decision(harness: Harness) -> None:
    handle = await start_po(harness, purchase_order("po-off-contract-price"))
    await until(handle, lambda s: s.open_exception is not None)
    assert await board_of(handle) == {
        sa.STAGE.name: "awaiting_approval",
        sa.TEAM.name: "pricing",
        sa.DECISION.name: "pricing_approval",
        sa.OUTCOME.name: None,
    }

    await handle.execute_update(
        PurchaseOrderWorkflow.resolve_exception,
        ExceptionResolution(action=ExceptionAction.REJECT, reason="not at this price", resolved_by="pat"),
    )
    await handle.result()
    assert await board_of(handle) == ended("completed", "rejected")


async def test_an_invoice_resolved_by_pricing_is_no_longer_pricing_work(harness: Harness) -> None:
    handle = await start_invoice(harness, invoice("inv-price-variance"))
    await until(handle, lambda s: s.open_exception is not None, invoice_run=True)
    assert (await board_of(handle))[sa.TEAM.name] == "pricing"

    await handle.execute_update(
        InvoiceWorkflow.resolve_exception,
        ExceptionResolution(action=ExceptionAction.REQUEST_CREDIT_MEMO, reason="contract price", resolved_by="ana"),
    )
    result = await handle.result()
    assert result.assigned_team == "pricing"  # the result still says who handled it
    assert await board_of(handle) == ended("completed", "credit_memo_requested")


async def test_a_duplicate_invoice_is_refused_without_becoming_accounts_payable_work(harness: Harness) -> None:
    await (await start_invoice(harness, invoice("inv-clean"))).result()
    duplicate = await start_invoice(harness, invoice("inv-duplicate"), suffix="-again")
    await duplicate.result()
    assert await board_of(duplicate) == ended("completed", "duplicate_invoice")


async def test_an_onboarding_approved_in_review_is_no_longer_vendor_master_work(harness: Harness) -> None:
    handle = await start(harness, supplier_request("possible-duplicate"))
    await until_stage(handle, OnboardingStage.AWAITING_REVIEW)
    assert (await board_of(handle))[sa.DECISION.name] == "supplier_review"

    await handle.execute_update(
        SupplierOnboardingWorkflow.resolve_exception,
        ExceptionResolution(action=ExceptionAction.APPROVE, reason="different company", resolved_by="jdoe"),
    )
    await handle.result()
    assert await board_of(handle) == ended("completed", "onboarded")


async def test_an_onboarding_that_failed_after_its_review_is_no_teams_work(harness: Harness) -> None:
    harness.systems.contracts.seed("CTR-LOCKED", None)
    harness.systems.contracts.fail_link = BusinessRuleError("contracts", "contract_locked", "contract is locked")
    handle = await start(harness, supplier_request("possible-duplicate", contract_refs=["CTR-LOCKED"]))
    await until_stage(handle, OnboardingStage.AWAITING_REVIEW)
    await handle.execute_update(
        SupplierOnboardingWorkflow.resolve_exception,
        ExceptionResolution(action=ExceptionAction.APPROVE, reason="different company", resolved_by="jdoe"),
    )
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    assert await board_of(handle) == ended("failed", None)
