"""Pure rules of the purchase-order workflow: supplier eligibility, contract terms and prices,
inventory warnings, and what a vendor acknowledgement changes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from domain.base import DomainModel
from domain.po_models import PoLineProgress, PoPolicy, ProcurementTerms, SupplierStanding
from domain.purchasing import AckLineStatus, AcknowledgementLine, PoAcknowledgement, PurchaseOrder, extended
from domain.reference import Contract, Item
from domain.supplier import BLOCKS_PURCHASING
from domain.system_records import ErpPoLineChange, InventoryBalance, ReservationRequest, VendorNotification
from domain.validation import ValidationIssue


def supplier_issues(standing: SupplierStanding, on: date) -> list[ValidationIssue]:
    """Why this supplier may not be ordered from on this day (empty when it may)."""
    if not standing.exists:
        return [ValidationIssue(field="supplier_id", reason=f"ERP supplier {standing.supplier_id} does not exist")]
    issues = []
    if standing.erp_status != "active":
        why = f" ({standing.hold_reason})" if standing.hold_reason else ""
        issues.append(
            ValidationIssue(
                field="supplier_id",
                reason=f"supplier {standing.supplier_id} is {standing.erp_status} in the ERP{why}",
            )
        )
    if standing.vendor_status in BLOCKS_PURCHASING:
        issues.append(
            ValidationIssue(
                field="supplier_id", reason=f"vendor management reports the supplier {standing.vendor_status}"
            )
        )
    for document in standing.credentials:
        if document.expires_on is not None and document.expires_on < on:
            issues.append(
                ValidationIssue(
                    field="supplier_id",
                    reason=f"credential {document.kind} expired on {document.expires_on.isoformat()}",
                )
            )
    return issues


class LineAboveContract(DomainModel):
    line: int
    item_id: str
    uom: str
    quantity: Decimal
    po_price: Decimal
    contract_price: Decimal


class PoAssessment(DomainModel):
    rejections: list[ValidationIssue] = Field(default_factory=list)
    contract_issues: list[ValidationIssue] = Field(default_factory=list)
    above_contract: list[LineAboveContract] = Field(default_factory=list)


def contract_price(contract: Contract, item: Item, uom: str, quantity: Decimal) -> Decimal | None:
    """The contract's tier price for this quantity, in `uom`: priced in that unit when the
    contract lists it, else converted from a unit it lists (a CS at 10 BX costs 10 BX prices)."""
    direct = contract.price_for(item.item_id, uom, quantity)
    if direct is not None:
        return direct
    for tier_uom in sorted({t.uom for t in contract.prices if t.item_id == item.item_id and t.uom in item.uoms}):
        per = Decimal(item.uoms[tier_uom])
        price = contract.price_for(item.item_id, tier_uom, item.convert(quantity, uom, tier_uom))
        if price is not None:
            return price / per * Decimal(item.uoms[uom])
    return None


def assess_purchase_order(po: PurchaseOrder, terms: ProcurementTerms, order_date: date) -> PoAssessment:
    """Reference checks (items, units, locations), then contract checks, then prices."""
    result = PoAssessment()
    for field, location in (("ship_to", po.ship_to), ("bill_to", po.bill_to)):
        if location not in terms.locations:
            result.rejections.append(ValidationIssue(field=field, reason=f"location {location} is not known"))
    for index, line in enumerate(po.lines):
        item = terms.items.get(line.item_id)
        if item is None:
            result.rejections.append(
                ValidationIssue(field=f"lines.{index}.item_id", reason=f"item {line.item_id} is not in the item master")
            )
        elif line.uom not in item.uoms:
            result.rejections.append(
                ValidationIssue(
                    field=f"lines.{index}.uom",
                    reason=f"{line.uom} is not a unit of {line.item_id} (units: {', '.join(sorted(item.uoms))})",
                )
            )
    if result.rejections or po.contract_ref is None:
        return result

    contract = terms.contract
    if contract is None:
        result.contract_issues.append(
            ValidationIssue(field="contract_ref", reason=f"contract {po.contract_ref} does not exist")
        )
        return result
    if contract.supplier_id not in (None, po.supplier_id):
        result.contract_issues.append(
            ValidationIssue(
                field="contract_ref",
                reason=f"contract {contract.contract_id} belongs to supplier {contract.supplier_id}",
            )
        )
    if not contract.in_force_on(order_date):
        state = "expired" if contract.effective_to < order_date or contract.status == "expired" else contract.status
        result.contract_issues.append(
            ValidationIssue(
                field="contract_ref",
                reason=(
                    f"contract {contract.contract_id} is not in force on {order_date.isoformat()} ({state}; "
                    f"{contract.effective_from.isoformat()} to {contract.effective_to.isoformat()})"
                ),
            )
        )
    if result.contract_issues:
        return result
    for index, line in enumerate(po.lines):
        item = terms.items[line.item_id]
        price = contract_price(contract, item, line.uom, line.quantity)
        if price is None:
            result.contract_issues.append(
                ValidationIssue(
                    field=f"lines.{index}.item_id",
                    reason=f"contract {contract.contract_id} has no price for {line.item_id} in {line.uom}",
                )
            )
        elif line.unit_price > price:
            result.above_contract.append(
                LineAboveContract(
                    line=line.line,
                    item_id=line.item_id,
                    uom=line.uom,
                    quantity=line.quantity,
                    po_price=line.unit_price,
                    contract_price=price,
                )
            )
    return result


def value_over_thresholds(po: PurchaseOrder, policy: PoPolicy) -> list[ValidationIssue]:
    """What makes the order need a purchasing approval: lines, or the whole order, worth more than
    the policy's thresholds (none when the policy sets none)."""
    issues = []
    if policy.approval_line_amount is not None:
        for index, line in enumerate(po.lines):
            amount = extended(line.quantity, line.unit_price)
            if amount > policy.approval_line_amount:
                issues.append(
                    ValidationIssue(
                        field=f"lines.{index}",
                        reason=f"line {line.line} is worth {amount} {po.currency}, above the approval "
                        f"threshold of {policy.approval_line_amount}",
                    )
                )
    if policy.approval_order_amount is not None and po.total > policy.approval_order_amount:
        issues.append(
            ValidationIssue(
                field="lines",
                reason=f"the order is worth {po.total} {po.currency}, above the approval threshold of "
                f"{policy.approval_order_amount}",
            )
        )
    return issues


def reservation_requests(po: PurchaseOrder) -> list[tuple[int, ReservationRequest]]:
    """Stock to reserve at the ship-to location for each line, referenced by PO and line."""
    return [
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


def vendor_notification(po: PurchaseOrder, order_date: date) -> VendorNotification:
    """What the vendor is sent: the lines, each with its need-by date (the order's when unset)."""
    return VendorNotification(
        po_number=po.po_number,
        supplier_id=po.supplier_id,
        order_date=order_date,
        ship_to=po.ship_to,
        currency=po.currency,
        shipping=po.shipping,
        bill_to=po.bill_to,
        requester=po.requester,
        contract_ref=po.contract_ref,
        need_by=po.need_by,
        lines=[line.model_copy(update={"need_by": line.need_by or po.need_by}) for line in po.lines],
    )


def inventory_warnings(po: PurchaseOrder, balances: list[InventoryBalance], items: dict[str, Item]) -> list[str]:
    """What the ship-to stock says about the order (informational: it never blocks a PO):
    lines that would take the location above its par level, and items it does not stock."""
    warnings = []
    by_item = {balance.item_id: balance for balance in balances if balance.location_id == po.ship_to}
    for line in po.lines:
        balance = by_item.get(line.item_id)
        item = items.get(line.item_id)
        if balance is None:
            warnings.append(f"line {line.line}: {po.ship_to} does not stock {line.item_id}")
            continue
        if balance.par is None or item is None or line.uom not in item.uoms or balance.uom not in item.uoms:
            continue
        ordered = item.convert(line.quantity, line.uom, balance.uom)
        after = balance.on_hand + balance.reserved + ordered
        if after > balance.par:
            warnings.append(
                f"line {line.line}: {po.ship_to} would hold {after.normalize():f} {balance.uom} of {line.item_id} "
                f"(on hand {balance.on_hand.normalize():f}, on order {balance.reserved.normalize():f}, "
                f"par {balance.par.normalize():f})"
            )
    return warnings


def acknowledgement_changes(lines: list[PoLineProgress], ack: PoAcknowledgement) -> list[tuple[int, ErpPoLineChange]]:
    """The ERP line changes an acknowledgement asks for (accepted lines change nothing)."""
    changes: list[tuple[int, ErpPoLineChange]] = []
    known = {line.line for line in lines}
    for ack_line in ack.lines:
        if ack_line.line not in known:
            continue
        if ack_line.status is AckLineStatus.REJECTED:
            changes.append((ack_line.line, ErpPoLineChange(status="cancelled")))
        elif ack_line.status is AckLineStatus.QUANTITY_CHANGED and ack_line.quantity is not None:
            changes.append((ack_line.line, ErpPoLineChange(quantity=ack_line.quantity)))
        elif ack_line.status is AckLineStatus.PRICE_CHANGED and ack_line.unit_price is not None:
            changes.append((ack_line.line, ErpPoLineChange(unit_price=ack_line.unit_price)))
        elif ack_line.status is AckLineStatus.BACKORDERED:
            changes.append(
                (
                    ack_line.line,
                    ErpPoLineChange(
                        backordered_quantity=ack_line.backordered_quantity, promised_date=ack_line.promised_date
                    ),
                )
            )
    return changes


class AcknowledgementEffects(DomainModel):
    """What a vendor acknowledgement does to a PO: its lines as acknowledged, the ERP line changes
    it asks for, and the reservations of lines the vendor rejected (to release)."""

    lines: list[PoLineProgress]
    erp_changes: list[tuple[int, ErpPoLineChange]] = Field(default_factory=list)
    released_reservations: list[str] = Field(default_factory=list)

    @property
    def every_line_rejected(self) -> bool:
        return all(line.cancelled for line in self.lines)


def price_increases(lines: list[PoLineProgress], ack: PoAcknowledgement) -> list[tuple[AcknowledgementLine, Decimal]]:
    """Acknowledged lines whose new price is above the ordered one, with the ordered price: each
    needs a pricing approval before the PO takes it."""
    ordered = {line.line: line.unit_price for line in lines}
    return [
        (a, ordered[a.line])
        for a in ack.lines
        if a.status is AckLineStatus.PRICE_CHANGED
        and a.unit_price is not None
        and a.line in ordered
        and a.unit_price > ordered[a.line]
    ]


def apply_acknowledgement(lines: list[PoLineProgress], ack: PoAcknowledgement) -> AcknowledgementEffects:
    """The vendor's answer recorded per line: rejected lines are cancelled (their reservation to be
    released), a changed quantity or price replaces the ordered one, a backorder is noted, a
    promised date kept; lines the acknowledgement does not mention are accepted."""
    acknowledged = [line.model_copy() for line in lines]
    by_number = {line.line: line for line in acknowledged}
    released: list[str] = []
    for ack_line in ack.lines:
        line = by_number.get(ack_line.line)
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
    for line in acknowledged:
        line.ack_status = line.ack_status or AckLineStatus.ACCEPTED
    return AcknowledgementEffects(
        lines=acknowledged, erp_changes=acknowledgement_changes(acknowledged, ack), released_reservations=released
    )
