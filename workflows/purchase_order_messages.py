"""The messages the purchase-order workflow takes while it runs: decisions
(`resolve_exception`), receipts (`record_receipt` Update, `receipt_recorded` signal), approved
invoices, vendor acknowledgements, supplier holds, `cancel`, and the `status` query.

`PurchaseOrderWorkflow` (workflows/purchase_order.py) is the process built on this state; every
handler is validated before it is accepted, and none starts an effect the process does not own
except a receipt, which is recorded in the ERP under the PO's lock.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.procurement import ProcurementActivities
    from domain.decisions import DecisionKind, ExceptionResolution, OpenException, decision_team
    from domain.po_models import (
        CancelRequest,
        PoInvoiceFailure,
        PoInvoiceNotice,
        PoLineProgress,
        PoStage,
        PoStatus,
        ReceiptRequest,
        RecordReceiptInput,
        SupplierHoldNotice,
    )
    from domain.purchasing import PoAcknowledgement, Receipt, ReceiptLine
    from domain.shipping import ShipNotice
    from workflows.kit.calls import call_local
    from workflows.purchase_order_parent import tell_parent
    from workflows.purchase_order_state import SEEN_EVENTS_KEPT, PurchaseOrderState


class PurchaseOrderMessages(PurchaseOrderState):
    # --- decisions -----------------------------------------------------------------------------

    @workflow.update(name="resolve_exception")
    async def resolve_exception(self, resolution: ExceptionResolution) -> PoStatus:
        self._gate.resolve(resolution)
        return self.status()

    @resolve_exception.validator
    def _validate_resolution(self, resolution: ExceptionResolution) -> None:
        self._gate.validate(resolution)

    async def _decide(self, kind: DecisionKind, summary: str, *, evidence: dict[str, Any]) -> ExceptionResolution:
        team = decision_team(kind)
        stage_before = self._board.stage
        self._board.set_stage(PoStage.AWAITING_APPROVAL, team=team)
        await self._publish("purchase_order.exception_raised", {"kind": kind.value, "team": team})
        decided = await self._gate.decide(
            kind,
            team,
            summary,
            self._policy.decision_sla,
            evidence=evidence,
            cancelled=lambda: self._cancel is not None,
            on_escalation=self._escalated,
        )
        self._board.team = decided.team
        self._board.set_stage(stage_before)
        resolution = decided.resolution
        await self._publish(
            "purchase_order.exception_resolved",
            {"kind": kind.value, "action": resolution.action.value, "by": resolution.resolved_by},
        )
        return resolution

    async def _escalated(self, opened: OpenException) -> None:
        self._progress.escalation_level = opened.escalation_level
        self._board.set_stage(self._board.stage, team=opened.team)
        await self._publish("purchase_order.exception_escalated", {"kind": opened.kind.value, "team": opened.team})

    # --- receipts ------------------------------------------------------------------------------

    @workflow.update(name="record_receipt")
    async def record_receipt(self, request: ReceiptRequest) -> PoStatus:
        async with self._lock:
            line, quantity = self._receivable(request)  # again: another receipt may have landed
            self._receiving[line.line] = self._receiving.get(line.line, Decimal(0)) + quantity
            self._progress.receipt_count += 1
            record = RecordReceiptInput(
                po_number=self._po.po_number,
                line=ReceiptLine(line=line.line, quantity=request.quantity, uom=request.uom or line.uom),
                received_by=request.received_by,
                reservation_id=line.reservation_id,
                idempotency_key=self._receipt_key(),
            )
            try:
                receipt = await call_local(ProcurementActivities.record_receipt, record)
            finally:
                self._receiving[line.line] -= quantity
            self._add_receipt(receipt)
        return self.status()

    def _receipt_key(self) -> str:
        """The receipt's idempotency key, from the identity of the request (the Update's id, which a
        client retrying the same request reuses), never from a count a crash could rewind."""
        update = workflow.current_update_info()
        if update is None:  # not reached: receipts arrive as Updates
            return f"{self._wf_id}:receipt-{self._progress.receipt_count}"
        return f"{self._wf_id}:receipt-{update.id}"

    @record_receipt.validator
    def _validate_receipt(self, request: ReceiptRequest) -> None:
        self._receivable(request)

    def _receivable(self, request: ReceiptRequest) -> tuple[PoLineProgress, Decimal]:
        """The line a receipt is for and its quantity in the line's unit; ValueError (naming the
        field) when the PO takes no receipt or not this one."""
        po_number = self._po.po_number
        if self._outcome is not None or self._cancel is not None:
            raise ValueError(f"PO {po_number} is {self._outcome or 'being cancelled'}: it takes no receipts")
        if not self._progress.erp_created or self._board.stage in (PoStage.CREATING_IN_ERP, PoStage.VALIDATING):
            raise ValueError(f"PO {po_number} is not released yet (stage {self._board.stage.value})")
        line = self._progress.line(request.line)
        if line is None:
            raise ValueError(f"line: PO {po_number} has no line {request.line}")
        if line.cancelled:
            raise ValueError(f"line: line {request.line} is cancelled")
        uom = request.uom or line.uom
        quantity = self._in_line_unit(line, request.quantity, uom)
        open_quantity = line.open_to_receive - self._receiving.get(line.line, Decimal(0))
        if quantity > open_quantity:
            raise ValueError(
                f"quantity: {request.quantity} {uom} is more than line {line.line} still expects "
                f"({max(open_quantity, Decimal(0)).normalize():f} {line.uom})"
            )
        return line, quantity

    def _in_line_unit(self, line: PoLineProgress, quantity: Decimal, uom: str) -> Decimal:
        item = self._progress.items.get(line.item_id)
        if uom != line.uom and (item is None or not item.converts(uom, line.uom)):
            raise ValueError(f"uom: {uom} cannot be converted to {line.uom} for {line.item_id}")
        return quantity if item is None else item.convert(quantity, uom, line.uom)

    def _add_receipt(self, receipt: Receipt) -> None:
        if receipt.receipt_id in self._progress.receipts:
            return
        self._progress.receipts.append(receipt.receipt_id)
        for received in receipt.lines:
            line = self._progress.line(received.line)
            if line is not None:
                try:
                    line.received += self._in_line_unit(line, received.quantity, received.uom)
                except ValueError as error:
                    workflow.logger.warning("receipt %s line %s ignored: %s", receipt.receipt_id, received.line, error)
        progress = self._progress
        if progress.received_in_full_at is None and all(line.open_to_receive <= 0 for line in progress.lines):
            progress.received_in_full_at = workflow.now()  # the invoice's SLA starts
            if workflow.info().parent is not None:  # a replenishment waits for its goods
                notice = self._progress_notice("purchase_order.received_in_full")
                self._telling_parent.append(asyncio.create_task(tell_parent(notice)))

    @workflow.signal(name="receipt_recorded")
    def receipt_recorded(self, receipt: Receipt) -> None:
        """A receipt the ERP already holds (entered at the dock)."""
        self._add_receipt(receipt)

    # --- invoices, acknowledgements, holds -----------------------------------------------------

    @workflow.signal(name="invoice_recorded")
    def invoice_recorded(self, notice: PoInvoiceNotice) -> None:
        if notice.invoice_workflow_id in self._progress.invoices:
            return
        self._progress.invoices.append(notice.invoice_workflow_id)
        for number, quantity in notice.lines:
            line = self._progress.line(number)
            if line is not None:
                line.invoiced += quantity

    @workflow.signal(name="invoice_failed")
    def invoice_failed(self, failure: PoInvoiceFailure) -> None:
        """An invoice run of this PO failed: the open phase hands the PO to accounts-payable."""
        self._progress.invoice_failures = [
            *self._progress.invoice_failures,
            f"invoice {failure.invoice_number} ({failure.invoice_workflow_id}): {failure.reason}",
        ][-SEEN_EVENTS_KEPT:]

    @workflow.signal(name="acknowledgement_received")
    def acknowledgement_received(self, ack: PoAcknowledgement) -> None:
        if self._seen(ack.identity):
            return
        if self._progress.acknowledgement is not None:
            workflow.logger.warning("a later acknowledgement %s of %s was ignored", ack.event_id, ack.po_number)
            return
        self._acks.append(ack)

    @workflow.signal(name="ship_notice_received")
    def ship_notice_received(self, notice: ShipNotice) -> None:
        """An advance ship notice (856): the shipped quantities count per line, and the PO shows
        `in_transit` until they are received. Lines the PO does not have are left out here (the
        intake opened a task for receiving about them)."""
        if self._seen(notice.event_id):
            return
        self._progress.shipments = [*self._progress.shipments, notice][-SEEN_EVENTS_KEPT:]
        for shipped in notice.lines:
            line = self._progress.line(shipped.line)
            if line is not None:
                try:
                    line.shipped += self._in_line_unit(line, shipped.quantity, shipped.uom)
                except ValueError as error:
                    why = f"ship notice {notice.asn_number} line {shipped.line} ignored: {error}"
                    workflow.logger.warning(why)
        self._board.refresh()

    @workflow.signal(name="supplier_hold_changed")
    def supplier_hold_changed(self, notice: SupplierHoldNotice) -> None:
        if self._seen(notice.event_id):
            return
        self._progress.on_hold = notice.on_hold
        self._progress.hold_reason = notice.reason if notice.on_hold else None
        self._board.refresh()

    # --- cancel and status ---------------------------------------------------------------------

    @workflow.update(name="cancel")
    async def cancel(self, request: CancelRequest) -> PoStatus:
        self._cancel = request
        await workflow.wait_condition(lambda: self._outcome is not None)
        return self.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        po_number = self._po.po_number
        if self._outcome is not None:
            raise ValueError(f"PO {po_number} is already {self._outcome.value}")
        if self._cancel is not None:
            raise ValueError(f"PO {po_number} is already being cancelled")
        if self._progress.receipts or any(self._receiving.values()):
            raise ValueError(f"PO {po_number} has receipts: it can no longer be cancelled")
