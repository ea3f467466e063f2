"""Invoice processing (`invoice-<supplier>-<invoice number>`):

gather the match facts (PO, receipts, earlier approved invoices, item master, same-numbered
invoices in AP) -> duplicate? end as `duplicate_invoice` (never captured, never paid) ->
three-way match (domain.matching, in the workflow: no activity for pure computation) ->
clean: capture and approve for payment in AP, record the approved ERP voucher, tell the PO ->
discrepancy: capture, one exception in AP with the ERP voucher on hold, enriched with the
receipt status, the contract pricing and the supplier's dispute history, routed to one team,
waiting for the `resolve_exception` Update (accept_variance, request_credit_memo, short_pay,
reject) with an SLA and one escalation to the team's managers -> apply the resolution in AP,
the ERP and the dispute record.

Accept and short-pay re-read the facts first, so a short-pay pays what is received and not yet
billed at that moment, not when the exception was raised.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.invoicing import InvoiceActivities
    from domain.decisions import (
        AP_TEAM,
        DecisionKind,
        DecisionRecord,
        ExceptionAction,
        ExceptionResolution,
        OpenException,
        team_for,
    )
    from domain.invoice_models import (
        ApplyResolutionInput,
        EvidenceInput,
        InvoiceInput,
        InvoiceOutcome,
        InvoiceResult,
        InvoiceStage,
        InvoiceStatus,
        MatchFacts,
        MatchFactsInput,
        PostedInvoice,
        PostInvoiceInput,
    )
    from domain.invoice_rules import exception_evidence, invoice_exception_team, po_line_facts
    from domain.matching import MatchResult, three_way_match
    from domain.po_models import PoInvoiceFailure, PoInvoiceNotice
    from domain.purchasing import normalise_invoice_number, purchase_order_workflow_id
    from domain.system_records import Dispute
    from workflows.kit.board import Board, show_supplier
    from workflows.kit.calls import call_local, root_cause
    from workflows.kit.decisions import DecisionGate
    from workflows.kit.events import EventPublisher
    from workflows.purchase_order import PurchaseOrderWorkflow

OUTCOME_FOR: dict[ExceptionAction, InvoiceOutcome] = {
    ExceptionAction.ACCEPT_VARIANCE: InvoiceOutcome.APPROVED_WITH_VARIANCE,
    ExceptionAction.SHORT_PAY: InvoiceOutcome.SHORT_PAID,
    ExceptionAction.REQUEST_CREDIT_MEMO: InvoiceOutcome.CREDIT_MEMO_REQUESTED,
    ExceptionAction.REJECT: InvoiceOutcome.REJECTED,
}


@workflow.defn(name="Invoice")
class InvoiceWorkflow:
    @workflow.init
    def __init__(self, params: InvoiceInput) -> None:
        self._invoice = params.invoice
        self._policy = params.policy
        self._board = Board(InvoiceStage.RECEIVED)
        self._outcome: InvoiceOutcome | None = None
        self._gate = DecisionGate(params.invoice.invoice_number, params.invoice.supplier_id)
        self._events = EventPublisher(local=True)
        self._wf_id = workflow.info().workflow_id
        # the run captures the invoice in AP as itself: after a crash its retry finds its own
        # capture (approved or not) and carries on; another run finds it and ends as a duplicate
        self._capture_id = f"{self._wf_id}:{workflow.info().run_id}"

    @workflow.run
    async def run(self, params: InvoiceInput) -> InvoiceResult:
        invoice = self._invoice
        show_supplier(invoice.supplier_id)
        self._board.set_stage(InvoiceStage.MATCHING)
        facts, match = await self._match()
        if facts.duplicate_of is not None:
            original = facts.duplicate_of
            self._finish(InvoiceOutcome.DUPLICATE_INVOICE, team=AP_TEAM)
            await self._publish(
                "invoice.duplicate_refused", {"original": original.ap_invoice_id, "status": original.status}
            )
            return self._result(
                InvoiceOutcome.DUPLICATE_INVOICE,
                match=match,
                duplicate_of=original.ap_invoice_id,
                evidence={
                    "original": original.model_dump(mode="json", include={"ap_invoice_id", "invoice_number", "status"})
                },
            )
        try:
            if match.clean:
                return await self._approve(match)
            return await self._raise_exception(facts, match)
        except (ApplicationError, ActivityError) as error:
            tell_po = workflow.patched("tell-po-invoice-failed")  # runs recorded before failed silently
            if not tell_po and isinstance(error, ActivityError):
                raise
            self._board.fail(InvoiceStage.FAILED)
            if tell_po:
                await self._tell_po_failed(root_cause(error))
            raise ApplicationError(
                f"invoice {invoice.invoice_number} of {invoice.supplier_id} failed: {root_cause(error)}",
                type="invoice_failed",
                non_retryable=True,
            ) from error

    async def _match(self) -> tuple[MatchFacts, MatchResult]:
        facts = await call_local(
            InvoiceActivities.gather_match_facts,
            MatchFactsInput(invoice=self._invoice, workflow_id=self._wf_id, capture_id=self._capture_id),
        )
        match = three_way_match(
            self._invoice,
            po_line_facts(facts),
            facts.items,
            po_currency=facts.po.currency if facts.po else self._invoice.currency,
            po_exists=facts.po is not None,
            duplicate_of=facts.duplicate_of.ap_invoice_id if facts.duplicate_of else None,
            tolerance=self._policy.tolerance,
        )
        return facts, match

    async def _approve(self, match: MatchResult) -> InvoiceResult:
        self._board.set_stage(InvoiceStage.APPROVING)
        matched = [(m.po_line, m.quantity) for m in match.lines]
        posted = await call_local(
            InvoiceActivities.post_invoice,
            PostInvoiceInput(
                invoice=self._invoice,
                captured_by=self._capture_id,
                approve=True,
                amount=match.invoice_amount,
                matched_lines=matched,
                idempotency_prefix=workflow.info().workflow_id,
            ),
        )
        await self._tell_po(InvoiceOutcome.APPROVED, matched, match.invoice_amount)
        self._finish(InvoiceOutcome.APPROVED, team=None)
        await self._publish("invoice.approved", {"amount": str(match.invoice_amount)})
        return self._result(
            InvoiceOutcome.APPROVED,
            match=match,
            ap_invoice_id=posted.ap.ap_invoice_id,
            erp_invoice_id=posted.erp.erp_invoice_id,
            approved_amount=posted.ap.approved_amount,
        )

    async def _raise_exception(self, facts: MatchFacts, match: MatchResult) -> InvoiceResult:
        invoice = self._invoice
        wf_id = workflow.info().workflow_id
        kinds = match.kinds
        contract_ref = facts.po.contract_ref if facts.po else None
        team = team_for(kinds)
        summary = "; ".join(d.message for d in match.discrepancies)
        evidence_result, posted = await asyncio.gather(
            call_local(
                InvoiceActivities.gather_exception_evidence,
                EvidenceInput(supplier_id=invoice.supplier_id, contract_ref=contract_ref),
            ),
            call_local(
                InvoiceActivities.post_invoice,
                PostInvoiceInput(
                    invoice=invoice,
                    captured_by=self._capture_id,
                    approve=False,
                    amount=match.invoice_amount,
                    holds=[(d.kind.value, d.message) for d in match.discrepancies],
                    team=team,
                    summary=summary,
                    idempotency_prefix=wf_id,
                ),
            ),
        )
        team = invoice_exception_team(kinds, evidence_result.contract, invoice.invoice_date)
        evidence = exception_evidence(facts, match, evidence_result, invoice.invoice_date, workflow.now().date())
        dispute = Dispute(
            dispute_id=f"DSP-{wf_id}",
            supplier_id=invoice.supplier_id,
            invoice_number=invoice.invoice_number,
            kind=kinds[0].value,
            status="open",
            amount=sum((abs(d.amount) for d in match.discrepancies if d.amount is not None), Decimal(0)),
            opened_on=workflow.now().date(),
        )
        await self._publish("invoice.exception_raised", {"team": team, "kinds": [k.value for k in kinds]})
        self._board.set_stage(InvoiceStage.AWAITING_RESOLUTION, team=team)
        decided = await self._gate.decide(
            DecisionKind.INVOICE_EXCEPTION,
            team,
            summary,
            self._policy.resolution_sla,
            discrepancies=match.discrepancies,
            evidence=evidence,
            on_escalation=self._escalated,
        )
        return await self._apply(decided, match, posted, dispute)

    async def _apply(
        self, decided: DecisionRecord, match: MatchResult, posted: PostedInvoice, dispute: Dispute
    ) -> InvoiceResult:
        resolution: ExceptionResolution = decided.resolution
        action = resolution.action
        self._board.team = decided.team
        self._board.set_stage(InvoiceStage.APPLYING_RESOLUTION)
        if action in (ExceptionAction.ACCEPT_VARIANCE, ExceptionAction.SHORT_PAY):
            _, match = await self._match()  # what is received and unbilled now
        if action is ExceptionAction.ACCEPT_VARIANCE:
            amount, matched = match.invoice_amount, [(m.po_line, m.quantity) for m in match.lines]
        elif action is ExceptionAction.SHORT_PAY:
            amount, matched = match.payable_amount, [(m.po_line, m.payable_quantity) for m in match.lines]
        elif action is ExceptionAction.REQUEST_CREDIT_MEMO:
            amount, matched = max(match.invoice_amount - match.payable_amount, Decimal(0)), []
        else:
            amount, matched = Decimal(0), []
        outcome = OUTCOME_FOR[action]
        settled = dispute.model_copy(
            update={"status": "resolved", "resolution": f"{action.value}: {resolution.reason}"}
            if action is not ExceptionAction.REQUEST_CREDIT_MEMO
            else {"resolution": f"credit memo requested for {amount}: {resolution.reason}"}
        )
        wf_id = workflow.info().workflow_id
        applied = await call_local(
            InvoiceActivities.apply_invoice_resolution,
            ApplyResolutionInput(
                action=action,
                reason=resolution.reason,
                resolved_by=resolution.resolved_by,
                ap_invoice_id=posted.ap.ap_invoice_id,
                erp_invoice_id=posted.erp.erp_invoice_id,
                amount=amount,
                matched_lines=matched,
                dispute=settled,
                idempotency_prefix=f"{wf_id}:resolution",
            ),
        )
        if matched:
            await self._tell_po(outcome, matched, amount)
        self._finish(outcome, team=decided.team)
        await self._publish(
            "invoice.exception_resolved",
            {"action": action.value, "by": resolution.resolved_by, "amount": str(amount)},
        )
        return self._result(
            outcome,
            match=match,
            ap_invoice_id=applied.ap.ap_invoice_id,
            erp_invoice_id=applied.erp.erp_invoice_id,
            approved_amount=applied.ap.approved_amount,
            resolution=decided,
            evidence={"dispute": settled.model_dump(mode="json")},
        )

    async def _escalated(self, opened: OpenException) -> None:
        self._board.set_stage(InvoiceStage.AWAITING_RESOLUTION, team=opened.team)
        await self._publish("invoice.exception_escalated", {"team": opened.team})

    async def _tell_po_failed(self, reason: str) -> None:
        """The PO hands itself to accounts-payable with the reason: a failed run is never silent."""
        failure = PoInvoiceFailure(
            invoice_workflow_id=self._wf_id, invoice_number=self._invoice.invoice_number, reason=reason
        )
        handle = workflow.get_external_workflow_handle(purchase_order_workflow_id(self._invoice.po_number))
        try:
            await handle.signal(PurchaseOrderWorkflow.invoice_failed, failure)
        except Exception as error:  # the PO may be closed or not run by this platform
            workflow.logger.info("PO %s was not told the invoice failed: %s", self._invoice.po_number, error)

    async def _tell_po(self, outcome: InvoiceOutcome, lines: list[tuple[int, Decimal]], amount: Decimal) -> None:
        notice = PoInvoiceNotice(
            invoice_workflow_id=workflow.info().workflow_id,
            invoice_number=self._invoice.invoice_number,
            outcome=outcome.value,
            lines=lines,
            amount=amount,
        )
        handle = workflow.get_external_workflow_handle(purchase_order_workflow_id(self._invoice.po_number))
        try:
            await handle.signal(PurchaseOrderWorkflow.invoice_recorded, notice)
        except Exception as error:  # the PO may be closed or not run by this platform
            workflow.logger.info("PO %s was not told about the invoice: %s", self._invoice.po_number, error)

    @workflow.update(name="resolve_exception")
    async def resolve_exception(self, resolution: ExceptionResolution) -> InvoiceStatus:
        self._gate.resolve(resolution)
        return self.status()

    @resolve_exception.validator
    def _validate_resolution(self, resolution: ExceptionResolution) -> None:
        self._gate.validate(resolution)

    @workflow.query(name="status")
    def status(self) -> InvoiceStatus:
        return InvoiceStatus(
            workflow_id=workflow.info().workflow_id,
            invoice_number=self._invoice.invoice_number,
            supplier_id=self._invoice.supplier_id,
            po_number=self._invoice.po_number,
            stage=self._board.stage,
            outcome=self._outcome,
            open_exception=self._gate.open,
            assigned_team=self._board.team,
            escalation_level=self._gate.open.escalation_level if self._gate.open else 0,
        )

    async def _publish(self, event_type: str, data: dict[str, object]) -> None:
        invoice = self._invoice
        subject = f"{invoice.supplier_id}/{normalise_invoice_number(invoice.invoice_number)}"
        details = {"po_number": invoice.po_number, "invoice_number": invoice.invoice_number, **data}
        await self._events.publish(subject, event_type, details)

    def _finish(self, outcome: InvoiceOutcome, *, team: str | None) -> None:
        self._outcome = outcome
        self._board.finish(InvoiceStage.COMPLETED, outcome, team=team)

    def _result(self, outcome: InvoiceOutcome, *, match: MatchResult | None, **details: object) -> InvoiceResult:
        return InvoiceResult(
            workflow_id=workflow.info().workflow_id,
            invoice_number=self._invoice.invoice_number,
            supplier_id=self._invoice.supplier_id,
            po_number=self._invoice.po_number,
            outcome=outcome,
            match=match,
            discrepancies=match.discrepancies if match else [],
            assigned_team=self._board.team,
            escalation_level=self._gate.history[-1].escalation_level if self._gate.history else 0,
            **details,
        )
