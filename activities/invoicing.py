"""Invoice activities: the facts the three-way match reads, the evidence of an exception, and
posting an invoice and its resolution in AP, the ERP and the dispute record. Every change
carries an idempotency key derived from the workflow id, so a retried activity never captures,
approves or pays twice. The invoice workflow runs them as local activities."""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.errors import translate_adapter_errors
from activities.procurement import find_contract
from adapters.accounts_payable import AccountsPayablePort
from adapters.contracts import ContractsPort
from adapters.erp_procurement import ErpProcurementPort
from adapters.errors import NotFoundError
from domain.decisions import ExceptionAction
from domain.invoice_models import (
    ApplyResolutionInput,
    EvidenceInput,
    ExceptionEvidence,
    MatchFacts,
    MatchFactsInput,
    PostedInvoice,
    PostInvoiceInput,
)
from domain.purchasing import Receipt
from domain.system_records import ApInvoice, ApInvoiceStatus, ErpInvoiceDraft, ErpInvoiceHold, MatchedLine

UNFINISHED_CAPTURE = (ApInvoiceStatus.CAPTURED, ApInvoiceStatus.EXCEPTION)


def is_own_capture(found: ApInvoice, params: MatchFactsInput) -> bool:
    """An AP invoice this same run captured earlier (before a crash or a retry): whatever it has
    become since, it is not a duplicate of itself. Runs recorded before captures carried the run
    (`capture_id`) are recognised by their workflow id while the capture is unfinished."""
    if params.capture_id is not None and found.captured_by == params.capture_id:
        return True
    return found.captured_by == params.workflow_id and found.status in UNFINISHED_CAPTURE


class InvoiceActivities:
    def __init__(
        self,
        *,
        procurement: ErpProcurementPort,
        contracts: ContractsPort,
        accounts_payable: AccountsPayablePort,
    ) -> None:
        self._procurement = procurement
        self._contracts = contracts
        self._ap = accounts_payable

    @activity.defn(name="gather_match_facts")
    @translate_adapter_errors
    async def gather_match_facts(self, params: MatchFactsInput) -> MatchFacts:
        invoice = params.invoice

        async def purchase_order() -> object:
            try:
                return await self._procurement.get_purchase_order(invoice.po_number)
            except NotFoundError:
                return None

        async def receipts() -> list[Receipt]:
            try:
                return await self._procurement.list_receipts(invoice.po_number)
            except NotFoundError:
                return []

        po, received, vouchers, items, same_number = await asyncio.gather(
            purchase_order(),
            receipts(),
            self._procurement.list_invoices(po_number=invoice.po_number),
            self._contracts.list_items(),
            self._ap.find_invoices(supplier_id=invoice.supplier_id, invoice_number=invoice.invoice_number),
        )
        duplicate = next(
            (found for found in same_number if not is_own_capture(found, params)),
            None,
        )
        wanted = {line.item_id for line in invoice.lines} | {line.item_id for line in getattr(po, "lines", [])}
        return MatchFacts(
            po=po,
            receipts=received,
            approved_vouchers=[
                v for v in vouchers if v.status == "approved" and v.invoice_number != invoice.invoice_number
            ],
            items={item.item_id: item for item in items if item.item_id in wanted},
            duplicate_of=duplicate,
        )

    @activity.defn(name="gather_exception_evidence")
    @translate_adapter_errors
    async def gather_exception_evidence(self, params: EvidenceInput) -> ExceptionEvidence:
        disputes, found = await asyncio.gather(
            self._ap.list_disputes(params.supplier_id), find_contract(self._contracts, params.contract_ref)
        )
        return ExceptionEvidence(disputes=disputes, contract=found)

    @activity.defn(name="post_invoice")
    @translate_adapter_errors
    async def post_invoice(self, params: PostInvoiceInput) -> PostedInvoice:
        """Capture in AP, then approve for payment (clean) or raise the exception (AP status and
        ERP voucher holds). Each step has its own key, so a retry repeats none of them."""
        prefix = params.idempotency_prefix
        invoice = params.invoice
        captured = await self._ap.capture(invoice, captured_by=params.captured_by, idempotency_key=f"{prefix}:capture")
        matched = [MatchedLine(po_line=line, quantity=quantity) for line, quantity in params.matched_lines]
        if params.approve:
            ap = await self._ap.approve(
                captured.ap_invoice_id,
                params.amount,
                reason="three-way match passed",
                approved_by=params.approved_by,
                idempotency_key=f"{prefix}:approve",
            )
            draft = ErpInvoiceDraft(
                invoice=invoice, status="approved", approved_amount=params.amount, matched_lines=matched
            )
        else:
            ap = await self._ap.mark_exception(
                captured.ap_invoice_id,
                kinds=[code for code, _ in params.holds],
                team=params.team or "accounts-payable",
                summary=params.summary,
                idempotency_key=f"{prefix}:exception",
            )
            holds = [ErpInvoiceHold(code=code, reason=reason) for code, reason in params.holds]
            draft = ErpInvoiceDraft(invoice=invoice, status="on_hold", holds=holds)
        erp = await self._procurement.create_invoice(draft, idempotency_key=f"{prefix}:erp-voucher")
        return PostedInvoice(ap=ap, erp=erp)

    @activity.defn(name="apply_invoice_resolution")
    @translate_adapter_errors
    async def apply_invoice_resolution(self, params: ApplyResolutionInput) -> PostedInvoice:
        """The resolution in AP, then in the ERP voucher, then on the dispute record."""
        prefix = params.idempotency_prefix
        action = params.action
        reason = f"{action.value}: {params.reason} ({params.resolved_by})"
        if action in (ExceptionAction.ACCEPT_VARIANCE, ExceptionAction.SHORT_PAY):
            ap = await self._ap.approve(
                params.ap_invoice_id,
                params.amount,
                reason=reason,
                approved_by=params.resolved_by,
                idempotency_key=f"{prefix}:approve",
            )
            erp = await self._procurement.release_invoice(
                params.erp_invoice_id,
                reason,
                approved_amount=str(params.amount),
                matched_lines=[MatchedLine(po_line=line, quantity=q) for line, q in params.matched_lines],
                idempotency_key=f"{prefix}:erp-release",
            )
        elif action is ExceptionAction.REQUEST_CREDIT_MEMO:
            ap = await self._ap.request_credit_memo(
                params.ap_invoice_id, params.amount, reason=reason, idempotency_key=f"{prefix}:credit-memo"
            )
            erp = next(
                v
                for v in await self._procurement.list_invoices(supplier_id=ap.supplier_id, po_number=ap.po_number)
                if v.erp_invoice_id == params.erp_invoice_id
            )
        else:
            ap = await self._ap.reject(params.ap_invoice_id, reason=reason, idempotency_key=f"{prefix}:reject")
            erp = await self._procurement.cancel_invoice(
                params.erp_invoice_id, reason, idempotency_key=f"{prefix}:erp-cancel"
            )
        await self._ap.record_dispute(params.dispute, idempotency_key=f"{prefix}:dispute")
        return PostedInvoice(ap=ap, erp=erp)
