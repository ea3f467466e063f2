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
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.procurement import (
        PURCHASING_TEAM,
        AckLineStatus,
        ApplyAckInput,
        CancelRequest,
        CreatePoInput,
        DecisionKind,
        Done,
        ErpPoState,
        ExceptionAction,
        ExceptionResolution,
        InventoryCheckInput,
        InventoryPosition,
        NotifyVendorInput,
        OpenException,
        PoActionInput,
        PoInvoiceNotice,
        PoLineProgress,
        PoOutcome,
        PoProgress,
        PoRejectionKind,
        PoResult,
        PoStage,
        PoStatus,
        ProcurementTerms,
        PurchaseOrderInput,
        ReceiptRequest,
        RecordReceiptInput,
        ReleaseInput,
        ReserveInput,
        ReserveResult,
        SupplierCheckInput,
        SupplierHoldNotice,
        SupplierStanding,
        TermsInput,
        acknowledgement_changes,
        assess_purchase_order,
        decision_team,
        inventory_warnings,
        supplier_issues,
    )
    from domain.purchasing import (
        PoAcknowledgement,
        Receipt,
        ReceiptLine,
        ReservationRequest,
        VendorNotification,
    )
    from domain.validation import ValidationIssue
    from workflows import search_attributes as sa
    from workflows.common import COMPENSATION_DEADLINE, call_local, publish, root_cause
    from workflows.decisions import Cancelled, DecisionGate

TERMINAL = (PoStage.COMPLETED, PoStage.FAILED)
SEEN_EVENTS_KEPT = 500


class _Rejected(Exception):
    def __init__(self, kind: PoRejectionKind, reasons: list[ValidationIssue], team: str | None = None) -> None:
        super().__init__(kind.value)
        self.kind = kind
        self.reasons = reasons
        self.team = team


@workflow.defn(name="PurchaseOrder")
class PurchaseOrderWorkflow:
    @workflow.init
    def __init__(self, params: PurchaseOrderInput) -> None:
        self._po = params.po
        self._policy = params.policy
        self._p = params.resume or PoProgress(
            lines=[
                PoLineProgress(
                    line=line.line,
                    item_id=line.item_id,
                    uom=line.uom,
                    ordered=line.quantity,
                    unit_price=line.unit_price,
                )
                for line in params.po.lines
            ]
        )
        self._gate = DecisionGate(params.po.po_number, params.po.supplier_id)
        self._gate.history = list(self._p.decisions)
        self._cancel: CancelRequest | None = None
        self._acks: list[PoAcknowledgement] = []
        self._receiving: dict[int, Decimal] = {}  # quantity of receipts in flight per line
        self._lock = asyncio.Lock()
        self._outcome: PoOutcome | None = None
        self._team: str | None = None
        self._compensated: list[str] = []
        self._events = 0

    # --- the process -------------------------------------------------------------------------

    @workflow.run
    async def run(self, params: PurchaseOrderInput) -> PoResult:
        workflow.upsert_search_attributes([sa.SUPPLIER.value_set(self._po.supplier_id)])
        try:
            if params.resume is None:
                await self._release()
                await self._await_acknowledgement()
            return await self._follow_through()
        except _Rejected as rejected:
            return await self._reject(rejected)
        except Cancelled as cancelled:
            if self._cancel is not None:
                return await self._end_cancelled(f"cancelled by {self._cancel.requested_by}: {self._cancel.reason}")
            return await self._end_cancelled(str(cancelled) or "cancelled")
        except ApplicationError:
            raise
        except Exception as error:
            await self._compensate(f"failed: {root_cause(error)}")
            self._set_stage(PoStage.FAILED)
            raise ApplicationError(
                f"purchase order {self._po.po_number} failed and was compensated: {root_cause(error)}",
                type="purchase_order_failed",
                non_retryable=True,
            ) from error

    async def _release(self) -> None:
        po = self._po
        wf_id = workflow.info().workflow_id
        self._set_stage(PoStage.VALIDATING)
        order_date = self._p.order_date = po.order_date or workflow.now().date()
        item_ids = sorted({line.item_id for line in po.lines})
        standing, terms, position = await asyncio.gather(  # independent checks side by side
            call_local("check_supplier_standing", SupplierCheckInput(supplier_id=po.supplier_id), SupplierStanding),
            call_local(
                "get_procurement_terms", TermsInput(contract_ref=po.contract_ref, item_ids=item_ids), ProcurementTerms
            ),
            call_local(
                "check_inventory", InventoryCheckInput(location_id=po.ship_to, item_ids=item_ids), InventoryPosition
            ),
        )
        self._p.items = terms.items
        self._p.warnings = inventory_warnings(po, position.balances, terms.items)
        issues = supplier_issues(standing, order_date)
        if issues:
            raise _Rejected(PoRejectionKind.SUPPLIER_NOT_ELIGIBLE, issues)
        assessment = assess_purchase_order(po, terms, order_date)
        if assessment.rejections:
            raise _Rejected(PoRejectionKind.VALIDATION, assessment.rejections)
        self._check_cancel()

        decided = False
        if assessment.contract_issues:
            contract = terms.contract
            decision = await self._decide(
                DecisionKind.CONTRACT_EXCEPTION,
                "; ".join(issue.reason for issue in assessment.contract_issues),
                evidence={
                    "issues": [issue.model_dump(mode="json") for issue in assessment.contract_issues],
                    "contract": contract.model_dump(mode="json") if contract else None,
                    "order_date": order_date.isoformat(),
                },
            )
            if decision.action is ExceptionAction.REJECT:
                raise _Rejected(
                    PoRejectionKind.CONTRACT_REJECTED,
                    [*assessment.contract_issues, ValidationIssue(field="contract_ref", reason=decision.reason)],
                    decision_team(DecisionKind.CONTRACT_EXCEPTION),
                )
            decided = True
        elif assessment.above_contract:
            lines = assessment.above_contract
            decision = await self._decide(
                DecisionKind.PRICING_APPROVAL,
                "; ".join(
                    f"line {a.line} {a.item_id}: {a.po_price} per {a.uom} is above "
                    f"the contract price {a.contract_price}"
                    for a in lines
                ),
                evidence={
                    "contract_id": po.contract_ref,
                    "lines_above_contract": [a.model_dump(mode="json") for a in lines],
                },
            )
            if decision.action is ExceptionAction.REJECT:
                raise _Rejected(
                    PoRejectionKind.PRICING_REJECTED,
                    [
                        ValidationIssue(
                            field=f"lines.{self._index(a.line)}.unit_price",
                            reason=f"above the contract price {a.contract_price}; rejected: {decision.reason}",
                        )
                        for a in lines
                    ],
                    decision_team(DecisionKind.PRICING_APPROVAL),
                )
            decided = True
        if decided:  # the supplier may have been suspended while people decided
            standing = await call_local(
                "check_supplier_standing", SupplierCheckInput(supplier_id=po.supplier_id), SupplierStanding
            )
            issues = supplier_issues(standing, order_date)
            if issues:
                raise _Rejected(PoRejectionKind.SUPPLIER_NOT_ELIGIBLE, issues)

        self._set_stage(PoStage.CREATING_IN_ERP)
        self._p.erp_created = True  # before the call: a create that fails half-way is still cancelled
        await call_local("create_po_in_erp", CreatePoInput(po=po, idempotency_key=f"{wf_id}:create"), ErpPoState)
        self._check_cancel()

        self._set_stage(PoStage.RELEASING)
        self._p.vendor_notified = True
        reservations = [
            (
                line.line,
                ReservationRequest(
                    location_id=po.ship_to,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    uom=line.uom,
                    reference=f"{po.po_number}/{line.line}",
                ),
            )
            for line in po.lines
        ]
        notification = VendorNotification(
            po_number=po.po_number,
            supplier_id=po.supplier_id,
            order_date=order_date,
            ship_to=po.ship_to,
            currency=po.currency,
            lines=[line.model_copy(update={"need_by": line.need_by or po.need_by}) for line in po.lines],
        )
        reserved, _ = await asyncio.gather(
            call_local(
                "reserve_inventory",
                ReserveInput(reservations=reservations, idempotency_prefix=f"{wf_id}:reserve"),
                ReserveResult,
            ),
            call_local(
                "notify_vendor", NotifyVendorInput(notification=notification, idempotency_key=f"{wf_id}:notify"), Done
            ),
        )
        for line_number, reservation_id in reserved.reservation_ids:
            line = self._p.line(line_number)
            if line is not None:
                line.reservation_id = reservation_id
        await self._publish("purchase_order.released", {"lines": len(po.lines), "ship_to": po.ship_to})
        self._check_cancel()

    async def _await_acknowledgement(self) -> None:
        self._set_stage(PoStage.AWAITING_ACKNOWLEDGEMENT, team=PURCHASING_TEAM)
        policy = self._policy
        self._p.ack_due_at = workflow.now() + policy.ack_sla
        waiting = lambda: bool(self._acks) or self._cancel is not None  # noqa: E731
        try:
            await workflow.wait_condition(waiting, timeout=policy.ack_sla)
        except TimeoutError:
            self._p.escalation_level = 1
            self._set_stage(PoStage.AWAITING_ACKNOWLEDGEMENT, team=f"{PURCHASING_TEAM}-managers")
            await self._publish("purchase_order.acknowledgement_overdue", {"escalated_to": self._team})
            try:
                await workflow.wait_condition(waiting, timeout=policy.ack_cancel_after)
            except TimeoutError:
                hours = (policy.ack_sla + policy.ack_cancel_after).total_seconds() / 3600
                raise _NoAcknowledgement(f"no acknowledgement from the vendor within {hours:g} h") from None
        self._check_cancel()
        await self._apply_acknowledgement(self._acks.pop(0))

    async def _apply_acknowledgement(self, ack: PoAcknowledgement) -> None:
        wf_id = workflow.info().workflow_id
        self._p.acknowledgement = ack
        increases = [
            a
            for a in ack.lines
            if a.status is AckLineStatus.PRICE_CHANGED
            and a.unit_price is not None
            and (line := self._p.line(a.line)) is not None
            and a.unit_price > line.unit_price
        ]
        if increases:
            decision = await self._decide(
                DecisionKind.PRICING_APPROVAL,
                "; ".join(
                    f"vendor changed line {a.line} to {a.unit_price} (ordered at {self._p.line(a.line).unit_price})"  # type: ignore[union-attr]
                    for a in increases
                ),
                evidence={"acknowledgement": ack.model_dump(mode="json")},
            )
            if decision.action is ExceptionAction.REJECT:
                await self._compensate(f"vendor price change rejected: {decision.reason}")
                raise _Rejected(
                    PoRejectionKind.PRICING_REJECTED,
                    [ValidationIssue(field="acknowledgement", reason=f"price change rejected: {decision.reason}")],
                )
        released: list[str] = []
        for ack_line in ack.lines:
            line = self._p.line(ack_line.line)
            if line is None:
                continue
            line.ack_status = ack_line.status
            line.promised_date = ack_line.promised_date or line.promised_date
            if ack_line.status is AckLineStatus.REJECTED:
                line.cancelled = True
                if line.reservation_id:
                    released.append(line.reservation_id)
            elif ack_line.status is AckLineStatus.QUANTITY_CHANGED and ack_line.quantity is not None:
                line.ordered = ack_line.quantity
            elif ack_line.status is AckLineStatus.PRICE_CHANGED and ack_line.unit_price is not None:
                line.unit_price = ack_line.unit_price
            elif ack_line.status is AckLineStatus.BACKORDERED:
                line.backordered = ack_line.backordered_quantity
        for line in self._p.lines:
            line.ack_status = line.ack_status or AckLineStatus.ACCEPTED
        changes = acknowledgement_changes(self._p.lines, ack)
        if all(line.cancelled for line in self._p.lines):
            await self._compensate("every line was rejected by the vendor")
            raise _Rejected(
                PoRejectionKind.VENDOR_REJECTED,
                [ValidationIssue(field="lines", reason="the vendor rejected every line")],
            )
        if changes or released:
            await call_local(
                "apply_acknowledgement_in_erp",
                ApplyAckInput(
                    po_number=self._po.po_number,
                    changes=changes,
                    release_reservation_ids=released,
                    idempotency_prefix=f"{wf_id}:ack-{ack.event_id}",
                ),
                ErpPoState,
            )
        for line in self._p.lines:
            if line.reservation_id in released:
                line.reservation_id = None
        await self._publish(
            "purchase_order.acknowledged",
            {"lines": {str(line.line): (line.ack_status or "accepted") for line in self._p.lines}},
        )

    async def _follow_through(self) -> PoResult:
        self._set_stage(PoStage.OPEN, team=None)
        while True:
            await workflow.wait_condition(
                lambda: self._cancel is not None or (self._all_done() and not self._p.on_hold) or self._history_long()
            )
            self._check_cancel()
            if self._all_done() and not self._p.on_hold:
                break
            if self._history_long():
                await workflow.wait_condition(workflow.all_handlers_finished)
                self._p.decisions = list(self._gate.history)
                self._p.runs += 1
                workflow.continue_as_new(
                    PurchaseOrderInput(po=self._po, policy=self._policy, resume=self._p.model_copy())
                )
        await workflow.wait_condition(workflow.all_handlers_finished)
        self._set_stage(PoStage.CLOSING)
        wf_id = workflow.info().workflow_id
        await call_local(
            "close_po_in_erp",
            PoActionInput(
                po_number=self._po.po_number, reason="fully received and invoiced", idempotency_key=f"{wf_id}:close"
            ),
            ErpPoState,
        )
        await self._publish("purchase_order.closed", {"receipts": len(self._p.receipts)})
        self._finish(PoOutcome.CLOSED)
        return self._result(PoOutcome.CLOSED)

    # --- endings and compensation ------------------------------------------------------------

    async def _reject(self, rejected: _Rejected) -> PoResult:
        self._team = rejected.team or self._team
        self._finish(PoOutcome.REJECTED)
        await self._publish(
            "purchase_order.rejected", {"kind": rejected.kind.value, "fields": [r.field for r in rejected.reasons]}
        )
        return self._result(PoOutcome.REJECTED, rejection_kind=rejected.kind, reasons=rejected.reasons)

    async def _end_cancelled(self, reason: str) -> PoResult:
        await self._compensate(reason)
        self._finish(PoOutcome.CANCELLED)
        await self._publish("purchase_order.cancelled", {"reason": reason, "compensations": self._compensated})
        return self._result(PoOutcome.CANCELLED, cancel_reason=reason)

    async def _compensate(self, reason: str) -> None:
        """Undo in reverse order of doing: reservations, vendor notification, ERP PO."""
        self._set_stage(PoStage.COMPENSATING)
        wf_id = workflow.info().workflow_id
        po_number = self._po.po_number
        steps: list[tuple[str, ReleaseInput | PoActionInput]] = []
        held = [line.reservation_id for line in self._p.lines if line.reservation_id]
        if held:
            steps.append(
                (
                    "release_reservations",
                    ReleaseInput(reservation_ids=held, idempotency_prefix=f"{wf_id}:compensate-release"),
                )
            )
        if self._p.vendor_notified:
            steps.append(
                (
                    "cancel_po_with_vendor",
                    PoActionInput(po_number=po_number, reason=reason, idempotency_key=f"{wf_id}:compensate-vendor"),
                )
            )
        if self._p.erp_created:
            steps.append(
                (
                    "cancel_po_in_erp",
                    PoActionInput(po_number=po_number, reason=reason, idempotency_key=f"{wf_id}:compensate-erp"),
                )
            )
        for name, arg in steps:
            try:
                await call_local(name, arg, Done, schedule_to_close=COMPENSATION_DEADLINE)
                self._compensated.append(name)
            except Exception as error:  # keep compensating the rest; the failure is in the history
                workflow.logger.error("compensation %s failed: %s", name, error)
        for line in self._p.lines:
            line.reservation_id = None
        self._p.vendor_notified = self._p.erp_created = False

    # --- decisions -----------------------------------------------------------------------------

    async def _decide(self, kind: DecisionKind, summary: str, *, evidence: dict[str, object]) -> ExceptionResolution:
        team = decision_team(kind)
        stage_before = self._p.stage
        self._set_stage(PoStage.AWAITING_APPROVAL, team=team)
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
        self._team = decided.team
        self._set_stage(stage_before)
        await self._publish(
            "purchase_order.exception_resolved",
            {"kind": kind.value, "action": decided.resolution.action.value, "by": decided.resolution.resolved_by},
        )
        return decided.resolution

    async def _escalated(self, opened: OpenException) -> None:
        self._p.escalation_level = opened.escalation_level
        self._set_stage(self._p.stage, team=opened.team)
        await self._publish("purchase_order.exception_escalated", {"kind": opened.kind.value, "team": opened.team})

    @workflow.update(name="resolve_exception")
    async def resolve_exception(self, resolution: ExceptionResolution) -> PoStatus:
        self._gate.resolve(resolution)
        return self.status()

    @resolve_exception.validator
    def _validate_resolution(self, resolution: ExceptionResolution) -> None:
        self._gate.validate(resolution)

    # --- receipts, invoices, acknowledgements, holds, cancel -----------------------------------

    @workflow.update(name="record_receipt")
    async def record_receipt(self, request: ReceiptRequest) -> PoStatus:
        async with self._lock:
            line, quantity = self._receivable(request)  # again: another receipt may have landed
            self._receiving[line.line] = self._receiving.get(line.line, Decimal(0)) + quantity
            self._p.receipt_count += 1
            number = self._p.receipt_count
            try:
                receipt = await call_local(
                    "record_receipt",
                    RecordReceiptInput(
                        po_number=self._po.po_number,
                        line=ReceiptLine(line=line.line, quantity=request.quantity, uom=request.uom or line.uom),
                        received_by=request.received_by,
                        reservation_id=line.reservation_id,
                        idempotency_key=f"{workflow.info().workflow_id}:receipt-{number}",
                    ),
                    Receipt,
                )
            finally:
                self._receiving[line.line] -= quantity
            self._add_receipt(receipt)
        return self.status()

    @record_receipt.validator
    def _validate_receipt(self, request: ReceiptRequest) -> None:
        self._receivable(request)

    def _receivable(self, request: ReceiptRequest) -> tuple[PoLineProgress, Decimal]:
        if self._outcome is not None or self._cancel is not None:
            raise ValueError(f"PO {self._po.po_number} is {self._outcome or 'being cancelled'}: it takes no receipts")
        if not self._p.erp_created or self._p.stage in (PoStage.CREATING_IN_ERP, PoStage.VALIDATING):
            raise ValueError(f"PO {self._po.po_number} is not released yet (stage {self._p.stage.value})")
        line = self._p.line(request.line)
        if line is None:
            raise ValueError(f"line: PO {self._po.po_number} has no line {request.line}")
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
        if uom == line.uom:
            return quantity
        item = self._p.items.get(line.item_id)
        if item is None or uom not in item.uoms or line.uom not in item.uoms:
            raise ValueError(f"uom: {uom} cannot be converted to {line.uom} for {line.item_id}")
        return item.to_base(quantity, uom) / Decimal(item.uoms[line.uom])

    def _add_receipt(self, receipt: Receipt) -> None:
        if receipt.receipt_id in self._p.receipts:
            return
        self._p.receipts.append(receipt.receipt_id)
        for received in receipt.lines:
            line = self._p.line(received.line)
            if line is not None:
                try:
                    line.received += self._in_line_unit(line, received.quantity, received.uom)
                except ValueError as error:
                    workflow.logger.warning("receipt %s line %s ignored: %s", receipt.receipt_id, received.line, error)

    @workflow.signal(name="receipt_recorded")
    def receipt_recorded(self, receipt: Receipt) -> None:
        """A receipt the ERP already holds (entered at the dock)."""
        self._add_receipt(receipt)

    @workflow.signal(name="invoice_recorded")
    def invoice_recorded(self, notice: PoInvoiceNotice) -> None:
        if notice.invoice_workflow_id in self._p.invoices:
            return
        self._p.invoices.append(notice.invoice_workflow_id)
        for number, quantity in notice.lines:
            line = self._p.line(number)
            if line is not None:
                line.invoiced += quantity

    @workflow.signal(name="acknowledgement_received")
    def acknowledgement_received(self, ack: PoAcknowledgement) -> None:
        if self._seen(ack.event_id):
            return
        if self._p.acknowledgement is not None:
            workflow.logger.warning("a later acknowledgement %s of %s was ignored", ack.event_id, ack.po_number)
            return
        self._acks.append(ack)

    @workflow.signal(name="supplier_hold_changed")
    def supplier_hold_changed(self, notice: SupplierHoldNotice) -> None:
        if self._seen(notice.event_id):
            return
        self._p.on_hold = notice.on_hold
        self._p.hold_reason = notice.reason if notice.on_hold else None
        self._set_stage(self._p.stage)

    @workflow.update(name="cancel")
    async def cancel(self, request: CancelRequest) -> PoStatus:
        self._cancel = request
        await workflow.wait_condition(lambda: self._outcome is not None)
        return self.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if self._outcome is not None:
            raise ValueError(f"PO {self._po.po_number} is already {self._outcome.value}")
        if self._cancel is not None:
            raise ValueError(f"PO {self._po.po_number} is already being cancelled")
        if self._p.receipts or any(self._receiving.values()):
            raise ValueError(f"PO {self._po.po_number} has receipts: it can no longer be cancelled")

    @workflow.query(name="status")
    def status(self) -> PoStatus:
        return PoStatus(
            workflow_id=workflow.info().workflow_id,
            po_number=self._po.po_number,
            supplier_id=self._po.supplier_id,
            stage=PoStage.ON_HOLD if self._p.on_hold and self._p.stage not in TERMINAL else self._p.stage,
            outcome=self._outcome,
            on_hold=self._p.on_hold,
            hold_reason=self._p.hold_reason,
            escalation_level=max(self._p.escalation_level, self._gate.open.escalation_level if self._gate.open else 0),
            ack_due_at=self._p.ack_due_at if self._p.stage is PoStage.AWAITING_ACKNOWLEDGEMENT else None,
            lines=self._p.lines,
            open_exception=self._gate.open,
            receipts=self._p.receipts,
            invoices=self._p.invoices,
            assigned_team=self._team,
            warnings=self._p.warnings,
        )

    # --- helpers -----------------------------------------------------------------------------

    def _seen(self, event_id: str) -> bool:
        if event_id in self._p.seen_events:
            return True
        self._p.seen_events = [*self._p.seen_events, event_id][-SEEN_EVENTS_KEPT:]
        return False

    def _all_done(self) -> bool:
        return all(line.done for line in self._p.lines)

    def _history_long(self) -> bool:
        info = workflow.info()
        return info.get_current_history_length() >= self._policy.continue_as_new_after or (
            info.is_continue_as_new_suggested()
        )

    def _check_cancel(self) -> None:
        if self._cancel is not None:
            raise Cancelled()

    def _index(self, line_number: int) -> int:
        return next(i for i, line in enumerate(self._po.lines) if line.line == line_number)

    async def _publish(self, event_type: str, data: dict[str, object]) -> None:
        self._events += 1
        await publish(self._po.po_number, event_type, {"supplier_id": self._po.supplier_id, **data}, self._events)

    def _set_stage(self, stage: PoStage, *, team: str | bool | None = False) -> None:
        self._p.stage = stage
        if team is not False:
            self._team = team  # type: ignore[assignment]
        shown = PoStage.ON_HOLD if self._p.on_hold and stage not in TERMINAL else stage
        updates = [sa.STAGE.value_set(shown.value)]
        updates.append(sa.TEAM.value_set(self._team) if self._team else sa.TEAM.value_unset())
        workflow.upsert_search_attributes(updates)

    def _finish(self, outcome: PoOutcome) -> None:
        self._outcome = outcome
        self._set_stage(PoStage.COMPLETED)
        workflow.upsert_search_attributes([sa.OUTCOME.value_set(outcome.value)])

    def _result(self, outcome: PoOutcome, **details: object) -> PoResult:
        return PoResult(
            workflow_id=workflow.info().workflow_id,
            po_number=self._po.po_number,
            supplier_id=self._po.supplier_id,
            outcome=outcome,
            assigned_team=self._team,
            lines=self._p.lines,
            acknowledgement=self._p.acknowledgement,
            receipts=self._p.receipts,
            invoices=self._p.invoices,
            decisions=self._gate.history,
            compensations=self._compensated,
            escalation_level=self._p.escalation_level,
            warnings=self._p.warnings,
            **details,
        )


class _NoAcknowledgement(Cancelled):
    pass
