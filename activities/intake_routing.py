"""Where each X12 transaction set goes once mapped: the same call a JSON request makes.

855 -> the PO workflow's acknowledgement (as the webhook delivers it); 856 -> the PO's ship notice;
810 -> the invoice workflow (for a PO we know: an invoice for an unknown PO is a dead letter a
replay takes once the PO exists); 850 -> the purchase-order workflow; 832 -> each catalog price
that differs from the supplier's contract is a `catalog_price_discrepancy` task for contracting
(never applied to a contract); 997/999 received -> kept, reconciled with what we sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from adapters.contracts import ContractsPort
from adapters.intake_dispatch import IntakeDispatchPort
from domain.catalog import CatalogPrices
from domain.compliance import ReviewTaskInput
from domain.decisions import CONTRACTING_TEAM, RECEIVING_TEAM, DecisionKind
from domain.intake import RecordOutcome
from domain.purchasing import Invoice, PoAcknowledgement, PurchaseOrder
from domain.shipping import ShipNotice
from domain.x12.context import MappingContext
from domain.x12.functional_ack import FunctionalAckReceived
from domain.x12.map_all import map_transaction_set
from domain.x12.model import TransactionSet


@dataclass(frozen=True)
class Handled:
    outcome: RecordOutcome
    key: str | None = None
    workflow_id: str | None = None
    reason: str | None = None


def _started(workflow_id: str, new: bool, key: str) -> Handled:
    if new:
        return Handled(RecordOutcome.STARTED, key, workflow_id)
    return Handled(RecordOutcome.DUPLICATE, key, workflow_id, f"{workflow_id} holds it already: not taken twice")


async def route_transaction(
    ts: TransactionSet, ctx: MappingContext, dispatch: IntakeDispatchPort, contracts: ContractsPort, submitted_by: str
) -> Handled:
    """Map the set and hand it on; raises MappingError (a dead letter naming the field)."""
    document = map_transaction_set(ts, ctx)
    if isinstance(document, PoAcknowledgement):
        ack = document.model_copy(update={"source": f"edi:{ctx.identity.sender_id}"})
        acknowledged = await dispatch.acknowledge(ack)
        if acknowledged is None:
            return Handled(RecordOutcome.DEAD_LETTER, ack.po_number,
                           reason=f"PO {ack.po_number} has no open purchase-order workflow here")  # fmt: skip
        return Handled(RecordOutcome.STARTED, ack.po_number, acknowledged)
    if isinstance(document, Invoice):
        if not await dispatch.purchase_order_known(document.po_number):
            why = f"invoice {document.invoice_number} is for PO {document.po_number}, unknown here"
            return Handled(RecordOutcome.DEAD_LETTER, document.invoice_number, reason=why)
        return _started(*await dispatch.start_invoice(document, submitted_by), document.invoice_number)
    if isinstance(document, ShipNotice):
        exception = await _ship_notice_exception(document, dispatch)
        delivered = await dispatch.ship_notice(document)
        if delivered is None:
            why = f"ship notice {document.asn_number}: PO {document.po_number} has no open workflow here"
            return Handled(RecordOutcome.DEAD_LETTER, document.po_number, reason=why)
        return Handled(RecordOutcome.STARTED, document.po_number, delivered, exception)
    if isinstance(document, PurchaseOrder):
        return _started(*await dispatch.start_purchase_order(document, submitted_by), document.po_number)
    if isinstance(document, CatalogPrices):
        return await _catalog(document, dispatch, contracts)
    if isinstance(document, FunctionalAckReceived):
        status = f"{document.kind} of group {document.group_control_number}: {document.status.value}"
        return Handled(RecordOutcome.ACKNOWLEDGED, document.group_control_number, reason=status)
    return Handled(RecordOutcome.DEAD_LETTER, reason=f"transaction set {ts.code} is not one this platform takes")


async def _ship_notice_exception(notice: ShipNotice, dispatch: IntakeDispatchPort) -> str | None:
    """Lines the PO does not have, or more shipped than ordered: a task for receiving (the notice
    is still delivered: the PO counts what it can)."""
    lines = await dispatch.purchase_order_lines(notice.po_number)
    if lines is None:
        return None
    problems = []
    for shipped in notice.lines:
        known = lines.get(shipped.line)
        if known is None:
            problems.append(f"line {shipped.line} ({shipped.item_id}) is not on PO {notice.po_number}")
        elif shipped.uom == known[2] and known[1] + shipped.quantity > known[0]:
            problems.append(f"line {shipped.line}: {known[1] + shipped.quantity} {shipped.uom} shipped, "
                            f"{known[0]} {known[2]} ordered")  # fmt: skip
    if not problems:
        return None
    summary = f"ship notice {notice.asn_number} on PO {notice.po_number}: " + "; ".join(problems)
    task = ReviewTaskInput(kind=DecisionKind.SHIP_NOTICE_EXCEPTION.value, team=RECEIVING_TEAM,
                           record=notice.supplier_id, summary=summary,
                           evidence={"ship_notice": notice.model_dump(mode="json"), "problems": problems})  # fmt: skip
    task_id = await dispatch.open_task(f"ship-notice-{notice.po_number}-{notice.asn_number}", task)
    return f"{summary} (task {task_id} for receiving)"


async def _catalog(catalog: CatalogPrices, dispatch: IntakeDispatchPort, contracts: ContractsPort) -> Handled:
    """Each price that differs from the supplier's contract in force is a task for contracting."""
    supplier, on = catalog.supplier_id, catalog.effective_from or date.today()
    tasks, matching = [], 0
    for entry in catalog.prices:
        for contract in await contracts.contracts_pricing(entry.item_id):
            if contract.supplier_id != supplier or not contract.in_force_on(on):
                continue
            contract_price = contract.price_for(entry.item_id, entry.uom, entry.min_quantity or Decimal(1))
            if contract_price is None:
                continue
            if contract_price == entry.unit_price:
                matching += 1
                continue
            task_id = f"catalog-price-{supplier}-{entry.item_id}-{catalog.catalog_id}"
            summary = (f"catalog {catalog.catalog_id} of {supplier} prices {entry.item_id} at {entry.unit_price} per "
                       f"{entry.uom}; contract {contract.contract_id} says {contract_price}")  # fmt: skip
            evidence = {"catalog_id": catalog.catalog_id, "item_id": entry.item_id, "uom": entry.uom,
                        "catalog_price": str(entry.unit_price), "contract_id": contract.contract_id,
                        "contract_price": str(contract_price), "effective_from": str(on)}  # fmt: skip
            task = ReviewTaskInput(kind=DecisionKind.CATALOG_PRICE_DISCREPANCY.value, team=CONTRACTING_TEAM,
                                   record=supplier, summary=summary, evidence=evidence)  # fmt: skip
            tasks.append(await dispatch.open_task(task_id, task))
    reason = f"{len(tasks)} price(s) differ from the contract (tasks for contracting), {matching} match"
    return Handled(RecordOutcome.STARTED, catalog.catalog_id, tasks[0] if tasks else None, reason)
