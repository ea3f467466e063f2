"""The purchase-order workflow's state: what it knows (carried over continue-as-new as
`PoProgress`), what operators see of it (the `status` query and the search attributes), and the
undo steps of its effects, pushed on its compensation stack as the process takes them.

`PurchaseOrderMessages` (the messages the PO takes) and `PurchaseOrderWorkflow` (the process)
build on it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.procurement import ProcurementActivities
    from domain.po_models import (
        CancelRequest,
        PoActionInput,
        PoLineProgress,
        PoOutcome,
        PoProgress,
        PoRejectionKind,
        PoResult,
        PoStage,
        PoStatus,
        PurchaseOrderInput,
        ReleaseInput,
    )
    from domain.purchasing import PoAcknowledgement
    from domain.replenishment_models import PoProgressNotice
    from domain.validation import ValidationIssue
    from workflows.kit.board import Board
    from workflows.kit.calls import COMPENSATION_DEADLINE, call_local
    from workflows.kit.compensation import Compensations
    from workflows.kit.decisions import Cancelled, DecisionGate
    from workflows.kit.events import EventPublisher
    from workflows.purchase_order_parent import tell_parent

TERMINAL = (PoStage.COMPLETED, PoStage.FAILED)
SEEN_EVENTS_KEPT = 500


class Rejected(Exception):
    """Ends the PO as rejected, with the reasons and the team that rejected it (if any)."""

    def __init__(self, kind: PoRejectionKind, reasons: list[ValidationIssue], team: str | None = None) -> None:
        super().__init__(kind.value)
        self.kind = kind
        self.reasons = reasons
        self.team = team


class PurchaseOrderState:
    @workflow.init
    def __init__(self, params: PurchaseOrderInput) -> None:
        self._po = params.po
        self._policy = params.policy
        self._submitted_by = params.submitted_by
        self._wf_id = workflow.info().workflow_id
        self._progress = params.resume or PoProgress(
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
        self._board = Board(self._progress.stage, shown=self._shown)
        self._gate = DecisionGate(params.po.po_number, params.po.supplier_id)
        self._gate.history = list(self._progress.decisions)
        self._undo = Compensations()
        if params.resume is not None:
            self._restore_compensations(params.resume)
        self._events = EventPublisher(local=True)
        self._cancel: CancelRequest | None = None
        self._acks: list[PoAcknowledgement] = []
        self._receiving: dict[int, Decimal] = {}  # quantity of receipts in flight per line
        self._lock = asyncio.Lock()
        self._outcome: PoOutcome | None = None
        self._compensated: list[str] = []
        self._telling_parent: list[asyncio.Task[None]] = []

    # --- compensation ---------------------------------------------------------------------------

    async def _compensate(self, reason: str) -> None:
        """Undo in reverse order of doing: reservations, vendor notification, ERP PO."""
        self._board.set_stage(PoStage.COMPENSATING)
        self._compensated.extend(await self._undo.unwind(reason))
        for line in self._progress.lines:
            line.reservation_id = None
        self._progress.vendor_notified = self._progress.erp_created = False

    def _restore_compensations(self, progress: PoProgress) -> None:
        """After continue-as-new: the undo steps of what the earlier runs did, in the same order."""
        if progress.erp_created:
            self._undo.push("cancel_po_in_erp", self._cancel_in_erp)
        if progress.vendor_notified:
            self._undo.push("cancel_po_with_vendor", self._cancel_with_vendor)
        self._undo.push("release_reservations", self._release_reservations, when=self._holds_reservations)

    def _holds_reservations(self) -> bool:
        return any(line.reservation_id for line in self._progress.lines)

    async def _release_reservations(self, reason: str) -> None:
        held = [line.reservation_id for line in self._progress.lines if line.reservation_id]
        release = ReleaseInput(reservation_ids=held, idempotency_prefix=f"{self._wf_id}:compensate-release")
        await call_local(ProcurementActivities.release_reservations, release, schedule_to_close=COMPENSATION_DEADLINE)

    async def _cancel_with_vendor(self, reason: str) -> None:
        cancel = PoActionInput(
            po_number=self._po.po_number, reason=reason, idempotency_key=f"{self._wf_id}:compensate-vendor"
        )
        await call_local(ProcurementActivities.cancel_po_with_vendor, cancel, schedule_to_close=COMPENSATION_DEADLINE)

    async def _cancel_in_erp(self, reason: str) -> None:
        cancel = PoActionInput(
            po_number=self._po.po_number, reason=reason, idempotency_key=f"{self._wf_id}:compensate-erp"
        )
        await call_local(ProcurementActivities.cancel_po_in_erp, cancel, schedule_to_close=COMPENSATION_DEADLINE)

    @workflow.query(name="status")
    def status(self) -> PoStatus:
        progress = self._progress
        stage = self._board.stage
        return PoStatus(
            workflow_id=self._wf_id,
            po_number=self._po.po_number,
            supplier_id=self._po.supplier_id,
            stage=self._shown(stage),
            outcome=self._outcome,
            on_hold=progress.on_hold,
            hold_reason=progress.hold_reason,
            escalation_level=max(progress.escalation_level, self._gate.open.escalation_level if self._gate.open else 0),
            ack_due_at=progress.ack_due_at if stage is PoStage.AWAITING_ACKNOWLEDGEMENT else None,
            lines=progress.lines,
            open_exception=self._gate.open,
            receipts=progress.receipts,
            invoices=progress.invoices,
            assigned_team=self._board.team,
            warnings=progress.warnings,
            shipments=progress.shipments,
        )

    # --- helpers -------------------------------------------------------------------------------

    def _shown(self, stage: PoStage) -> PoStage:
        """What operators see: a PO whose supplier is on hold shows `on_hold` until it ends; an
        open PO with shipped quantities not received yet (an 856) shows `in_transit`."""
        if self._progress.on_hold and stage not in TERMINAL:
            return PoStage.ON_HOLD
        return PoStage.IN_TRANSIT if stage is PoStage.OPEN and self._progress.in_transit else stage

    def _seen(self, event_id: str) -> bool:
        if event_id in self._progress.seen_events:
            return True
        self._progress.seen_events = [*self._progress.seen_events, event_id][-SEEN_EVENTS_KEPT:]
        return False

    def _invoice_due_at(self) -> datetime | None:
        """When the invoice is overdue: the policy's SLA after every line was received, while some
        line is not invoiced and accounts-payable was not already asked."""
        progress, sla = self._progress, self._policy.invoice_sla
        if sla is None or progress.invoice_overdue or progress.received_in_full_at is None:
            return None
        if all(line.cancelled or line.invoiced >= line.ordered for line in progress.lines):
            return None
        return progress.received_in_full_at + sla

    def _can_close(self) -> bool:
        return all(line.done for line in self._progress.lines) and not self._progress.on_hold

    def _history_long(self) -> bool:
        info = workflow.info()
        return info.get_current_history_length() >= self._policy.continue_as_new_after or (
            info.is_continue_as_new_suggested()
        )

    def _continue_as_new_input(self) -> PurchaseOrderInput:
        self._progress.stage = self._board.stage
        self._progress.decisions = list(self._gate.history)
        self._progress.runs += 1
        return PurchaseOrderInput(
            po=self._po, policy=self._policy, submitted_by=self._submitted_by, resume=self._progress.model_copy()
        )

    def _check_cancel(self) -> None:
        if self._cancel is not None:
            raise Cancelled()

    def _index(self, line_number: int) -> int:
        return next(i for i, line in enumerate(self._po.lines) if line.line == line_number)

    async def _publish(self, event_type: str, data: dict[str, object]) -> None:
        await self._events.publish(self._po.po_number, event_type, {"supplier_id": self._po.supplier_id, **data})
        await tell_parent(self._progress_notice(event_type))

    def _progress_notice(self, event_type: str) -> PoProgressNotice:
        received = all(line.open_to_receive <= 0 for line in self._progress.lines)
        return PoProgressNotice(po_number=self._po.po_number, event=event_type,
                                stage=self._shown(self._board.stage), received_in_full=received)  # fmt: skip

    def _finish(self, outcome: PoOutcome) -> None:
        self._outcome = outcome
        self._board.finish(PoStage.COMPLETED, outcome)

    def _result(self, outcome: PoOutcome, **details: object) -> PoResult:
        progress = self._progress
        return PoResult(
            workflow_id=self._wf_id,
            po_number=self._po.po_number,
            supplier_id=self._po.supplier_id,
            outcome=outcome,
            assigned_team=self._board.team,
            lines=progress.lines,
            acknowledgement=progress.acknowledgement,
            receipts=progress.receipts,
            invoices=progress.invoices,
            decisions=self._gate.history,
            compensations=self._compensated,
            escalation_level=progress.escalation_level,
            warnings=progress.warnings,
            **details,
        )
