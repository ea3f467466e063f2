"""Replenishment rules (issue: event-driven replenishment), as pure functions: how much to order
when a balance falls to its reorder point, and from whom.

How much: par level minus what is there or coming (on hand + on order + in transit), in the
balance's unit; nothing when that is zero or less. Ordered in a contract's unit, rounded up to
whole units of it through the item master (`Item.convert`, the one unit conversion): 25 BX of an
item sold by the case of 10 is 3 CS.

From whom: every contract in force on the day that prices the item, in any unit the item master
converts to. A contract is refused, with its reason, when it has no supplier, its supplier is not
eligible (not active, on hold, credentials not current, suspended), or no tier prices that
quantity. Of the rest, the lowest price per base unit for the quantity wins (tiers by quantity, as
`Contract.price_for` reads them); a tie goes to the item's preferred supplier, then to the lowest
contract id, so the same facts always give the same choice. None left is a sourcing exception for
a person, with every contract considered and why it was refused.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_CEILING, Decimal

from pydantic import Field

from domain.base import DomainModel
from domain.po_models import SupplierStanding as CheckedSupplier
from domain.reference import Contract, Item
from domain.supplier import BLOCKS_PURCHASING


class StockPosition(DomainModel):
    location_id: str
    item_id: str
    uom: str
    on_hand: Decimal
    par: Decimal
    reorder_point: Decimal
    on_order: Decimal = Decimal(0)
    in_transit: Decimal = Decimal(0)

    @property
    def breached(self) -> bool:
        """At or below the reorder point, counting what is on order or in transit."""
        return self.on_hand + self.on_order + self.in_transit <= self.reorder_point


class SupplierStanding(DomainModel):
    """What the vendor and ERP systems say of a supplier, for sourcing."""

    supplier_id: str
    active: bool = True
    on_hold: bool = False
    credentials_current: bool = True
    suspended: bool = False

    def refusal(self) -> str | None:
        """Why the supplier may not be ordered from, or None."""
        for refused, reason in ((self.suspended, "suspended in vendor management"), (not self.active, "not active"),
                                (self.on_hold, "on hold in the ERP"),
                                (not self.credentials_current, "credentials not current")):  # fmt: skip
            if refused:
                return reason
        return None


def standing_of(checked: CheckedSupplier, on: date) -> SupplierStanding:
    """A supplier's standing for sourcing, from the very checks a PO's validation reads (the ERP
    supplier, its vendor-management status and credentials), so sourcing never picks a supplier
    the PO would then refuse."""
    return SupplierStanding(
        supplier_id=checked.supplier_id,
        active=checked.exists and checked.erp_status in ("active", "on_hold"),
        on_hold=checked.erp_status == "on_hold",
        credentials_current=not any(d.expires_on is not None and d.expires_on < on for d in checked.credentials),
        suspended=checked.vendor_status in BLOCKS_PURCHASING,
    )


def approval_limit(item: Item, limit: Decimal, critical_limit: Decimal) -> Decimal:
    """Up to which order value a replenishment is ordered without a purchasing approval: an item
    the item master flags critical (a stock-out harms patients) has the higher limit."""
    return critical_limit if item.critical else limit


def approval_note(item: Item, value: Decimal, limit: Decimal) -> str:
    kind = "critical item's" if item.critical else "replenishment"
    if value <= limit:
        return f"no approval: {value} is within the {kind} limit of {limit}"
    return f"purchasing approves: {value} is above the {kind} limit of {limit}"


class Considered(DomainModel):
    contract_id: str
    supplier_id: str | None
    uom: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    refused: str | None = Field(default=None, description="why it was not chosen; None for the choice")


class Sourcing(DomainModel):
    chosen: Considered | None
    considered: list[Considered]


def quantity_needed(position: StockPosition) -> Decimal:
    """Par minus on hand, on order and in transit, in the balance's unit (never below zero)."""
    return max(Decimal(0), position.par - (position.on_hand + position.on_order + position.in_transit))


def in_whole_units(item: Item, quantity: Decimal, from_uom: str, to_uom: str) -> Decimal:
    """`quantity` of `from_uom` as whole `to_uom` units, rounded up (never order less than needed)."""
    return item.convert(quantity, from_uom, to_uom).to_integral_value(rounding=ROUND_CEILING)


def choose_vendor(
    item: Item,
    quantity: Decimal,
    uom: str,
    contracts: list[Contract],
    standings: dict[str, SupplierStanding],
    on: date,
    preferred_supplier: str | None = None,
) -> Sourcing:
    """The contract and supplier to order `quantity` `uom` of `item` from on day `on` (see the
    module's rules), with every contract considered and why the others were refused."""
    considered: list[Considered] = []
    candidates: list[tuple[Decimal, int, str, Considered]] = []
    for contract in sorted(contracts, key=lambda c: c.contract_id):
        tiers = [t for t in contract.prices if t.item_id == item.item_id]
        if not tiers:
            continue
        entry = Considered(contract_id=contract.contract_id, supplier_id=contract.supplier_id)
        considered.append(entry)
        entry.refused = _contract_refusal(contract, standings, on)
        if entry.refused:
            continue
        priced = _best_tier(item, quantity, uom, contract)
        if priced is None:
            entry.refused = f"no tier prices {quantity} {uom} in a unit the item master converts"
            continue
        entry.uom, entry.quantity, entry.unit_price, per_base = priced
        rank = 0 if contract.supplier_id == preferred_supplier else 1
        candidates.append((per_base, rank, contract.contract_id, entry))
    if not candidates:
        return Sourcing(chosen=None, considered=considered)
    best = min(candidates, key=lambda c: (c[0], c[1], c[2]))[3]
    for _, _, _, entry in candidates:
        if entry is not best:
            entry.refused = f"{entry.unit_price} per {entry.uom} is not the lowest price"
    return Sourcing(chosen=best, considered=considered)


def _contract_refusal(contract: Contract, standings: dict[str, SupplierStanding], on: date) -> str | None:
    if not contract.in_force_on(on):
        period = f"{contract.effective_from} to {contract.effective_to}"
        return f"not in force on {on.isoformat()} ({contract.status}, {period})"
    if contract.supplier_id is None:
        return "no supplier on the contract"
    standing = standings.get(contract.supplier_id)
    if standing is None:
        return f"supplier {contract.supplier_id} unknown to the ERP"
    refusal = standing.refusal()
    return f"supplier {contract.supplier_id} {refusal}" if refusal else None


def _best_tier(
    item: Item, quantity: Decimal, uom: str, contract: Contract
) -> tuple[str, Decimal, Decimal, Decimal] | None:
    """(unit, whole quantity in it, unit price, price per base unit) of the contract's cheapest
    way to price the quantity, or None."""
    best = None
    for tier_uom in sorted({t.uom for t in contract.prices if t.item_id == item.item_id}):
        if not item.converts(uom, tier_uom):
            continue
        whole = in_whole_units(item, quantity, uom, tier_uom)
        price = contract.price_for(item.item_id, tier_uom, whole)
        if price is None:
            continue
        per_base = price / Decimal(item.uoms[tier_uom])
        if best is None or per_base < best[3]:
            best = (tier_uom, whole, price, per_base)
    return best
