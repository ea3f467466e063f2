"""Purchase-order lifecycle (`purchase-order-<po number>`):

validate (supplier standing, contract terms and inventory side by side) -> pricing approval or
contract exception when needed -> create in the ERP -> reserve inventory and notify the vendor
(side by side) -> wait for the acknowledgement (SLA: escalate, then cancel and compensate) ->
apply its changes -> receipts (`record_receipt` Update, or `receipt_recorded` signal for
receipts the ERP already holds) and approved invoices (`invoice_recorded` signal from the
invoice workflow) -> close in the ERP when every line is received and invoiced.

Cancel (`cancel` Update) compensates in reverse: release the reservations, cancel with the
vendor, cancel in the ERP. A PO with receipts cannot be cancelled. A supplier hold from the
status-sync workflow (`supplier_hold_changed` signal) keeps the PO from closing until released.
The open phase continues as new when its history grows, carrying `PoProgress`.

System calls are local activities: short, idempotent by key, and cheaper in server round trips.
The messages the PO takes (receipts, invoices, acknowledgements, holds, cancel) are handled in
`workflows/purchase_order_messages.py`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.procurement import ProcurementActivities
    from domain.decisions import (
        AP_TEAM,
        PURCHASING_TEAM,
        DecisionKind,
        ExceptionAction,
        manager_team,
    )
    from domain.po_models import (
        ApplyAckInput,
        CreatePoInput,
        InventoryCheckInput,
        NotifyVendorInput,
        PoActionInput,
        PoOutcome,
        PoRejectionKind,
        PoResult,
        PoStage,
        ProcurementTerms,
        PurchaseOrderInput,
        ReserveInput,
        SupplierCheckInput,
        TermsInput,
    )
    from domain.po_rules import (
        PoAssessment,
        apply_acknowledgement,
        assess_purchase_order,
        inventory_warnings,
        price_increases,
        reservation_requests,
        supplier_issues,
        vendor_notification,
    )
    from domain.purchasing import PoAcknowledgement
    from domain.validation import ValidationIssue
    from workflows.kit.board import show_supplier
    from workflows.kit.calls import call_local, root_cause
    from workflows.kit.decisions import Cancelled, wait_with_sla
    from workflows.purchase_order_approvals import PurchaseOrderApprovals
    from workflows.purchase_order_state import Rejected


class _NoAcknowledgement(Cancelled):
    pass


@workflow.defn(name="PurchaseOrder")
class PurchaseOrderWorkflow(PurchaseOrderApprovals):
    # --- the process -------------------------------------------------------------------------

    @workflow.run
    async def run(self, params: PurchaseOrderInput) -> PoResult:
        show_supplier(self._po.supplier_id)
        try:
            if params.resume is None:
                await self._release()
                await self._await_acknowledgement()
            return await self._follow_through()
        except Rejected as rejected:
            return await self._reject(rejected)
        except Cancelled as cancelled:
            if self._cancel is not None:
                return await self._end_cancelled(f"cancelled by {self._cancel.requested_by}: {self._cancel.reason}")
            return await self._end_cancelled(str(cancelled) or "cancelled")
        except ApplicationError:
            raise
        except Exception as error:
            await self._compensate(f"failed: {root_cause(error)}")
            self._board.fail(PoStage.FAILED)
            raise ApplicationError(
                f"purchase order {self._po.po_number} failed and was compensated: {root_cause(error)}",
                type="purchase_order_failed",
                non_retryable=True,
            ) from error

    async def _release(self) -> None:
        terms, assessment = await self._validate()
        decided = await self._decide_exceptions(terms, assessment)
        decided = await self._purchase_approval() or decided
        if decided:
            await self._recheck_supplier()  # the supplier may have been suspended while people decided
        await self._create_in_erp()
        await self._reserve_and_notify()

    async def _validate(self) -> tuple[ProcurementTerms, PoAssessment]:
        """Supplier standing, contract terms and inventory, side by side; refused outright when
        the supplier may not be ordered from or the PO names unknown items, units or places."""
        po = self._po
        self._board.set_stage(PoStage.VALIDATING)
        order_date = self._progress.order_date = po.order_date or workflow.now().date()
        item_ids = sorted({line.item_id for line in po.lines})
        standing, terms, position = await asyncio.gather(
            call_local(ProcurementActivities.check_supplier_standing, SupplierCheckInput(supplier_id=po.supplier_id)),
            call_local(
                ProcurementActivities.get_procurement_terms, TermsInput(contract_ref=po.contract_ref, item_ids=item_ids)
            ),
            call_local(
                ProcurementActivities.check_inventory, InventoryCheckInput(location_id=po.ship_to, item_ids=item_ids)
            ),
        )
        self._progress.items = terms.items
        self._progress.warnings = inventory_warnings(po, position.balances, terms.items)
        issues = supplier_issues(standing, order_date)
        if issues:
            raise Rejected(PoRejectionKind.SUPPLIER_NOT_ELIGIBLE, issues)
        assessment = assess_purchase_order(po, terms, order_date)
        if assessment.rejections:
            raise Rejected(PoRejectionKind.VALIDATION, assessment.rejections)
        self._check_cancel()
        return terms, assessment

    async def _recheck_supplier(self) -> None:
        po = self._po
        standing = await call_local(
            ProcurementActivities.check_supplier_standing, SupplierCheckInput(supplier_id=po.supplier_id)
        )
        issues = supplier_issues(standing, self._progress.order_date or workflow.now().date())
        if issues:
            raise Rejected(PoRejectionKind.SUPPLIER_NOT_ELIGIBLE, issues)

    async def _create_in_erp(self) -> None:
        self._board.set_stage(PoStage.CREATING_IN_ERP)
        self._progress.erp_created = True  # before the call: a create that fails half-way is still cancelled
        self._undo.push("cancel_po_in_erp", self._cancel_in_erp)
        create = CreatePoInput(po=self._po, idempotency_key=f"{self._wf_id}:create")
        await call_local(ProcurementActivities.create_po_in_erp, create)
        self._check_cancel()

    async def _reserve_and_notify(self) -> None:
        po = self._po
        self._board.set_stage(PoStage.RELEASING)
        self._progress.vendor_notified = True
        self._undo.push("cancel_po_with_vendor", self._cancel_with_vendor)
        self._undo.push("release_reservations", self._release_reservations, when=self._holds_reservations)
        reservations = reservation_requests(po)
        notification = vendor_notification(po, self._progress.order_date or workflow.now().date())
        reserve = ReserveInput(reservations=reservations, idempotency_prefix=f"{self._wf_id}:reserve")
        notify = NotifyVendorInput(notification=notification, idempotency_key=f"{self._wf_id}:notify")
        reserved, _ = await asyncio.gather(
            call_local(ProcurementActivities.reserve_inventory, reserve),
            call_local(ProcurementActivities.notify_vendor, notify),
        )
        for line_number, reservation_id in reserved.reservation_ids:
            line = self._progress.line(line_number)
            if line is not None:
                line.reservation_id = reservation_id
        await self._publish("purchase_order.released", {"lines": len(po.lines), "ship_to": po.ship_to})
        self._check_cancel()

    async def _await_acknowledgement(self) -> None:
        policy = self._policy
        self._board.set_stage(PoStage.AWAITING_ACKNOWLEDGEMENT, team=PURCHASING_TEAM)
        self._progress.ack_due_at = workflow.now() + policy.ack_sla

        async def escalate() -> None:
            self._progress.escalation_level = 1
            self._board.set_stage(PoStage.AWAITING_ACKNOWLEDGEMENT, team=manager_team(PURCHASING_TEAM))
            await self._publish("purchase_order.acknowledgement_overdue", {"escalated_to": self._board.team})

        try:
            await wait_with_sla(
                lambda: bool(self._acks) or self._cancel is not None,
                policy.ack_sla,
                escalate,
                then_wait=policy.ack_cancel_after,
            )
        except TimeoutError:
            hours = (policy.ack_sla + policy.ack_cancel_after).total_seconds() / 3600
            raise _NoAcknowledgement(f"no acknowledgement from the vendor within {hours:g} h") from None
        self._check_cancel()
        await self._apply_acknowledgement(self._acks.pop(0))

    async def _apply_acknowledgement(self, ack: PoAcknowledgement) -> None:
        self._progress.acknowledgement = ack
        await self._approve_price_increases(ack)
        effects = apply_acknowledgement(self._progress.lines, ack)
        self._progress.lines = effects.lines
        if effects.every_line_rejected:
            await self._compensate("every line was rejected by the vendor")
            reasons = [ValidationIssue(field="lines", reason="the vendor rejected every line")]
            raise Rejected(PoRejectionKind.VENDOR_REJECTED, reasons)
        released = effects.released_reservations
        if effects.erp_changes or released:
            change = ApplyAckInput(
                po_number=self._po.po_number,
                changes=effects.erp_changes,
                release_reservation_ids=released,
                idempotency_prefix=f"{self._wf_id}:ack-{ack.event_id}",
            )
            await call_local(ProcurementActivities.apply_acknowledgement_in_erp, change)
        for line in self._progress.lines:
            if line.reservation_id in released:
                line.reservation_id = None
        statuses = {str(line.line): (line.ack_status or "accepted") for line in self._progress.lines}
        await self._publish("purchase_order.acknowledged", {"lines": statuses})

    async def _approve_price_increases(self, ack: PoAcknowledgement) -> None:
        """A vendor's price increase is a request: pricing approves it, or the PO is cancelled."""
        increases = price_increases(self._progress.lines, ack)
        if not increases:
            return
        summary = "; ".join(
            f"vendor changed line {a.line} to {a.unit_price} (ordered at {ordered})" for a, ordered in increases
        )
        decision = await self._decide(
            DecisionKind.PRICING_APPROVAL, summary, evidence={"acknowledgement": ack.model_dump(mode="json")}
        )
        if decision.action is ExceptionAction.REJECT:
            await self._compensate(f"vendor price change rejected: {decision.reason}")
            reasons = [ValidationIssue(field="acknowledgement", reason=f"price change rejected: {decision.reason}")]
            raise Rejected(PoRejectionKind.PRICING_REJECTED, reasons)

    async def _follow_through(self) -> PoResult:
        self._board.set_stage(PoStage.OPEN, team=None)
        while True:
            await self._wait_in_open_phase()
            self._check_cancel()
            if self._can_close():
                break
            if self._history_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(self._continue_as_new_input())
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._board.set_stage(PoStage.CLOSING)
        close = PoActionInput(
            po_number=self._po.po_number, reason="fully received and invoiced", idempotency_key=f"{self._wf_id}:close"
        )
        await call_local(ProcurementActivities.close_po_in_erp, close)
        await self._publish("purchase_order.closed", {"receipts": len(self._progress.receipts)})
        self._finish(PoOutcome.CLOSED)
        return self._result(PoOutcome.CLOSED)

    async def _wait_in_open_phase(self) -> None:
        """Until something to act on: a cancel, everything received and invoiced, a long history,
        an invoice run that failed, or (once every line is received) the invoice's SLA passing:
        the last two hand the PO to accounts-payable with the reason."""
        failures = len(self._progress.invoice_failures)
        due = self._invoice_due_at()
        ready = lambda: (  # noqa: E731
            self._cancel is not None
            or self._can_close()
            or self._history_long()
            or len(self._progress.invoice_failures) != failures
            or self._invoice_due_at() != due
        )
        if due is not None and workflow.patched("invoice-sla"):  # runs recorded before it had no timer
            try:
                await workflow.wait_condition(ready, timeout=max(due - workflow.now(), timedelta(seconds=1)))
            except TimeoutError:
                await self._to_accounts_payable("purchase_order.invoice_overdue", {"due_at": due.isoformat()})
        else:
            await workflow.wait_condition(ready)
        if len(self._progress.invoice_failures) > failures:
            reason = self._progress.invoice_failures[-1]
            await self._to_accounts_payable("purchase_order.invoice_failed", {"reason": reason})

    async def _to_accounts_payable(self, event_type: str, details: dict[str, object]) -> None:
        self._progress.invoice_overdue = True
        self._board.set_stage(self._board.stage, team=AP_TEAM)
        await self._publish(event_type, {"escalated_to": AP_TEAM, **details})

    # --- endings and compensation ------------------------------------------------------------

    async def _reject(self, rejected: Rejected) -> PoResult:
        if rejected.team is not None:
            self._board.team = rejected.team
        self._finish(PoOutcome.REJECTED)
        fields = [r.field for r in rejected.reasons]
        await self._publish("purchase_order.rejected", {"kind": rejected.kind.value, "fields": fields})
        return self._result(PoOutcome.REJECTED, rejection_kind=rejected.kind, reasons=rejected.reasons)

    async def _end_cancelled(self, reason: str) -> PoResult:
        await self._compensate(reason)
        self._finish(PoOutcome.CANCELLED)
        await self._publish("purchase_order.cancelled", {"reason": reason, "compensations": self._compensated})
        return self._result(PoOutcome.CANCELLED, cancel_reason=reason)
