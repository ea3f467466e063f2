"""Item, location and contract master data (the shapes of the sandbox seed files)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from domain.base import LenientModel


class Item(LenientModel):
    item_id: str
    description: str
    gtin: str | None = None
    unspsc: str | None = None
    manufacturer: str | None = None
    mfr_part: str | None = None
    uoms: dict[str, int] = Field(description="units of the base UOM in one of each UOM")
    base_uom: str
    hazardous: bool = False
    serialized: bool = False
    critical: bool = Field(
        default=False, description="a stock-out harms patients: replenished expedited, approval skipped up to a limit"
    )
    preferred_supplier_id: str | None = Field(default=None, description="breaks a tie between equal contract prices")

    def to_base(self, quantity: Decimal, uom: str) -> Decimal:
        """Quantity in the base unit: 2 CS of an item with CS=10 is 20 BX."""
        if uom not in self.uoms:
            raise ValueError(f"unit of measure {uom!r} is not defined for item {self.item_id}")
        return quantity * self.uoms[uom]

    def converts(self, from_uom: str, to_uom: str) -> bool:
        return from_uom in self.uoms and to_uom in self.uoms

    def convert(self, quantity: Decimal, from_uom: str, to_uom: str) -> Decimal:
        """The one unit conversion: 2 CS of an item with CS=10 and BX=1 is 20 BX. Raises
        ValueError naming the unit the item master does not define."""
        if from_uom == to_uom:
            return quantity
        if to_uom not in self.uoms:
            raise ValueError(f"unit of measure {to_uom!r} is not defined for item {self.item_id}")
        return self.to_base(quantity, from_uom) / Decimal(self.uoms[to_uom])


class Location(LenientModel):
    location_id: str
    name: str
    gln: str | None = None
    facility: str | None = None


class PriceTier(LenientModel):
    item_id: str
    uom: str
    unit_price: Decimal
    min_qty: Decimal = Decimal(0)


class Contract(LenientModel):
    contract_id: str
    supplier_id: str | None
    gpo: str | None = None
    effective_from: date
    effective_to: date
    status: str
    prices: list[PriceTier] = Field(default_factory=list)

    def in_force_on(self, day: date) -> bool:
        return self.status == "active" and self.effective_from <= day <= self.effective_to

    def price_for(self, item_id: str, uom: str, quantity: Decimal) -> Decimal | None:
        """The tier price for this quantity: the tier with the highest `min_qty` not above it."""
        tiers = [t for t in self.prices if t.item_id == item_id and t.uom == uom and t.min_qty <= quantity]
        if not tiers:
            return None
        return max(tiers, key=lambda t: t.min_qty).unit_price
