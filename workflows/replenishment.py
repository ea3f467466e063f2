"""Replenishment of one item at one location (`replenishment-<location>-<item>`):

breach reported -> read the stock (on order and in transit counted) -> nothing to do when it is
above the reorder point -> quantity to order in whole contract units, from the cheapest eligible
contracted vendor (domain/replenishment.py) -> no eligible vendor: a `sourcing_exception` for
purchasing (order from a supplier and price it names, or dismiss) -> the purchase-order workflow
as a child (`purchase-order-<RPL-...>`, the same validation, ERP create, reservation, vendor
notification, acknowledgement and receipt path as any PO), which tells this run its progress ->
done when the order is received in full (or the PO ends without it).

Breaches arrive by signal-with-start (`breach_reported`): while a run is open, every further
breach of the same location and item joins it and orders nothing more. The child PO is
abandoned, not terminated, when this run ends: it goes on to its invoice and close.

Critical items (item master) ship expedited and skip the purchasing approval up to the critical
limit; others up to the replenishment limit. Above its limit the child PO waits for the one
`purchase_approval` decision (SLA and escalation) like any PO above its thresholds.
"""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.replenishment import ReplenishmentActivities
    from domain.decisions import PURCHASING_TEAM, DecisionKind, ExceptionAction, ExceptionResolution
    from domain.po_models import PoOutcome, PoResult, PoStage, PurchaseOrderInput
    from domain.purchasing import PurchaseOrder, PurchaseOrderLine, extended, purchase_order_workflow_id
    from domain.reference import Item
    from domain.replenishment import (
        approval_limit,
        approval_note,
        choose_vendor,
        in_whole_units,
        quantity_needed,
        standing_of,
    )
    from domain.replenishment_models import (
        PlannedOrder,
        PoProgressNotice,
        ReplenishmentInput,
        ReplenishmentOutcome,
        ReplenishmentStage,
        ReplenishmentStatus,
        SourcesInput,
        StockBreach,
        StockInput,
        stage_for_po,
    )
    from workflows.kit.board import Board
    from workflows.kit.calls import call, root_cause
    from workflows.kit.decisions import DecisionGate
    from workflows.kit.events import EventPublisher
    from workflows.purchase_order import PurchaseOrderWorkflow
    from workflows.purchase_order_parent import PurchaseOrderParent

SEEN_BREACHES_KEPT = 200


@workflow.defn(name="Replenishment")
class ReplenishmentWorkflow(PurchaseOrderParent):
    @workflow.init
    def __init__(self, params: ReplenishmentInput) -> None:
        self._params = params
        self._status = ReplenishmentStatus(
            workflow_id=workflow.info().workflow_id,
            run_id=workflow.info().run_id,
            location_id=params.location_id,
            item_id=params.item_id,
            stage=ReplenishmentStage.RECEIVED,
        )
        self._board = Board(ReplenishmentStage.RECEIVED)
        self._gate = DecisionGate(f"{params.location_id}/{params.item_id}", supplier_id="")
        self._events = EventPublisher(local=False)
        self._item: Item | None = None
        self._seen: list[str] = []
        self._received_in_full = False

    @workflow.run
    async def run(self, params: ReplenishmentInput) -> ReplenishmentStatus:
        needed = await self._assess()
        if needed is None:
            return await self._end(ReplenishmentOutcome.NOT_NEEDED)
        order = await self._source(needed)
        if order is None:
            return await self._end(ReplenishmentOutcome.DISMISSED)
        return await self._order(order)

    # --- the steps ---------------------------------------------------------------------------

    async def _assess(self) -> tuple[Item, Decimal] | None:
        """The item and how much to order in the balance's unit, or None (the reason noted)."""
        self._board.set_stage(ReplenishmentStage.ASSESSING)
        stock = await call(ReplenishmentActivities.read_stock, StockInput(location_id=self._params.location_id,
                                                                          item_id=self._params.item_id))  # fmt: skip
        self._item = stock.item
        self._status.critical = bool(stock.item and stock.item.critical)
        position = self._status.position = stock.position
        if stock.missing or position is None or stock.item is None:
            self._status.reason = stock.missing
            return None
        self._status.quantity_needed = needed = quantity_needed(position)
        if not position.breached or needed <= 0:
            self._status.reason = (
                f"on hand {position.on_hand} + on order {position.on_order} + in transit {position.in_transit} "
                f"{position.uom} is above the reorder point {position.reorder_point}"
            )
            return None
        return stock.item, needed

    async def _source(self, needed: tuple[Item, Decimal]) -> PlannedOrder | None:
        """The cheapest eligible contracted vendor; without one, purchasing decides."""
        item, quantity = needed
        position = self._status.position
        assert position is not None
        today = workflow.now().date()
        sources = await call(ReplenishmentActivities.find_sources, SourcesInput(item_id=item.item_id))
        standings = {supplier: standing_of(checked, today) for supplier, checked in sources.standings.items()}
        sourcing = self._status.sourcing = choose_vendor(
            item, quantity, position.uom, sources.contracts, standings, today, item.preferred_supplier_id
        )
        chosen = sourcing.chosen
        if chosen is not None and chosen.supplier_id and chosen.uom and chosen.quantity and chosen.unit_price:
            return self._plan(item, chosen.supplier_id, chosen.contract_id, chosen.uom, chosen.quantity,
                              chosen.unit_price, "sourcing")  # fmt: skip
        return await self._sourcing_exception(item, quantity)

    async def _sourcing_exception(self, item: Item, quantity: Decimal) -> PlannedOrder | None:
        position = self._status.position
        assert position is not None and self._status.sourcing is not None
        self._board.set_stage(ReplenishmentStage.AWAITING_SOURCING_DECISION, team=PURCHASING_TEAM)
        needed = f"{quantity} {position.uom} of {item.item_id} at {position.location_id}"
        summary = f"no eligible contracted vendor for {needed}"
        await self._publish("replenishment.sourcing_exception", {"summary": summary, "team": PURCHASING_TEAM})
        decided = await self._gate.decide(
            DecisionKind.SOURCING_EXCEPTION, PURCHASING_TEAM, summary, self._params.policy.decision_sla,
            evidence={"position": position.model_dump(mode="json"), "quantity_needed": str(quantity),
                      "considered": [c.model_dump(mode="json") for c in self._status.sourcing.considered]},
            on_escalation=lambda opened: self._board_team(opened.team),
        )  # fmt: skip
        resolution = decided.resolution
        self._board.set_stage(ReplenishmentStage.ORDERING, team=None)
        if resolution.action is ExceptionAction.DISMISS or resolution.order_from is None:
            self._status.reason = f"dismissed by {resolution.resolved_by}: {resolution.reason}"
            return None
        named = resolution.order_from
        uom = named.uom or position.uom
        whole = in_whole_units(item, quantity, position.uom, uom)
        return self._plan(item, named.supplier_id, named.contract_ref, uom, whole, named.unit_price,
                          resolution.resolved_by)  # fmt: skip

    async def _order(self, order: PlannedOrder) -> ReplenishmentStatus:
        """Start the child PO and follow it until the goods are received (or it ends)."""
        self._board.set_stage(ReplenishmentStage.ORDERING, team=None)
        try:
            po = self._purchase_order(order)
        except ValueError as invalid:  # e.g. a quantity past the hard limits: nobody may order it
            self._status.reason = f"the order cannot be placed: {invalid}"
            return await self._end(ReplenishmentOutcome.ORDER_FAILED)
        item = self._item
        assert item is not None
        policy = self._params.policy
        limit = approval_limit(item, policy.approval_limit, policy.critical_approval_limit)
        child_policy = policy.po.model_copy(update={"approval_line_amount": None, "approval_order_amount": limit})
        await self._publish("replenishment.ordered", order.model_dump(mode="json"))
        child = await workflow.start_child_workflow(
            PurchaseOrderWorkflow.run,
            PurchaseOrderInput(po=po, policy=child_policy, submitted_by=self._params.submitted_by),
            id=purchase_order_workflow_id(po.po_number),
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"Replenishment of {po.lines[0].item_id} at {po.ship_to}",
        )
        await workflow.wait_condition(lambda: self._received_in_full or child.done())
        if self._received_in_full:
            self._status.reason = f"PO {po.po_number} received in full"
            return await self._end(ReplenishmentOutcome.REPLENISHED)
        try:
            result: PoResult = child.result()
        except ChildWorkflowError as failed:
            self._status.reason = f"PO {po.po_number} failed: {root_cause(failed)}"
            return await self._end(ReplenishmentOutcome.ORDER_FAILED)
        self._status.po_stage = PoStage.COMPLETED
        if result.outcome is PoOutcome.CLOSED:
            return await self._end(ReplenishmentOutcome.REPLENISHED)
        why = result.cancel_reason or "; ".join(r.reason for r in result.reasons) or result.outcome.value
        self._status.reason = f"PO {po.po_number} {result.outcome.value}: {why}"
        return await self._end(ReplenishmentOutcome.ORDER_FAILED)

    async def _end(self, outcome: ReplenishmentOutcome) -> ReplenishmentStatus:
        self._status.outcome = outcome
        self._board.finish(ReplenishmentStage.COMPLETED, outcome)
        await self._publish("replenishment.completed", {"outcome": outcome.value, "reason": self._status.reason})
        await workflow.wait_condition(workflow.all_handlers_finished)  # an Update's answer goes out first
        return self.status()

    # --- helpers -----------------------------------------------------------------------------

    def _plan(self, item: Item, supplier_id: str, contract_id: str | None, uom: str, quantity: Decimal,
              unit_price: Decimal, chosen_by: str) -> PlannedOrder:  # fmt: skip
        policy = self._params.policy
        value = extended(quantity, unit_price)
        limit = approval_limit(item, policy.approval_limit, policy.critical_approval_limit)
        stamp = workflow.now().strftime("%y%m%d")
        order = PlannedOrder(
            po_number=f"RPL-{stamp}-{workflow.uuid4().hex[:6].upper()}",
            supplier_id=supplier_id,
            contract_id=contract_id,
            uom=uom,
            quantity=quantity,
            unit_price=unit_price,
            value=value,
            shipping="expedited" if item.critical else "standard",
            approval=approval_note(item, value, limit),
            chosen_by=chosen_by,
        )
        self._status.order = order
        return order

    def _purchase_order(self, order: PlannedOrder) -> PurchaseOrder:
        item = self._item
        assert item is not None
        location = self._params.location_id
        line = PurchaseOrderLine(line=1, item_id=item.item_id, quantity=order.quantity, uom=order.uom,
                                 unit_price=order.unit_price, description=item.description[:240])  # fmt: skip
        return PurchaseOrder(
            po_number=order.po_number,
            supplier_id=order.supplier_id,
            contract_ref=order.contract_id,
            ship_to=location,
            bill_to=location,
            requester=self._params.submitted_by,
            order_date=workflow.now().date(),
            shipping=order.shipping,
            lines=[line],
        )

    async def _board_team(self, team: str) -> None:
        self._board.set_stage(self._board.stage, team=team)

    async def _publish(self, event_type: str, data: dict[str, object]) -> None:
        subject = f"{self._params.location_id}/{self._params.item_id}"
        await self._events.publish(subject, event_type, {"location_id": self._params.location_id,
                                                         "item_id": self._params.item_id, **data})  # fmt: skip

    # --- messages ------------------------------------------------------------------------------

    @workflow.signal(name="breach_reported")
    def breach_reported(self, breach: StockBreach) -> None:
        """A breach of this location and item: the first starts the run, the others join it."""
        if breach.event_id in self._seen:
            return
        self._seen = [*self._seen, breach.event_id][-SEEN_BREACHES_KEPT:]
        self._status.breaches += 1
        self._status.last_breach = breach

    @workflow.signal(name="purchase_order_progress")
    def purchase_order_progress(self, notice: PoProgressNotice) -> None:
        stage, self._status.po_stage = stage_for_po(notice)
        self._received_in_full = self._received_in_full or notice.received_in_full
        if stage is not self._board.stage and self._status.outcome is None:
            self._board.set_stage(stage)

    @workflow.update(name="resolve_exception")
    async def resolve_exception(self, resolution: ExceptionResolution) -> ReplenishmentStatus:
        self._gate.resolve(resolution)
        return self.status()

    @resolve_exception.validator
    def _validate_resolution(self, resolution: ExceptionResolution) -> None:
        self._gate.validate(resolution)
        named, item = resolution.order_from, self._item
        position = self._status.position
        if named and named.uom and item and position and not item.converts(position.uom, named.uom):
            raise ValueError(f"order_from.uom: {named.uom} is not a unit of {item.item_id} ({', '.join(item.uoms)})")

    @workflow.query(name="status")
    def status(self) -> ReplenishmentStatus:
        return self._status.model_copy(
            update={
                "stage": self._board.stage,
                "open_exception": self._gate.open,
                "assigned_team": self._board.team,
                "decisions": list(self._gate.history),
            }
        )
