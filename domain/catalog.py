"""A supplier's price catalog (an X12 832): the prices it says it charges, per item and unit.

A catalog is compared with the contract system's prices, never applied to a contract: a price
that differs is a task for `contracting` (see the intake's catalog comparison).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from domain.base import DomainModel
from domain.purchasing import Currency, Price, SystemId, UnitOfMeasure


class CatalogPrice(DomainModel):
    item_id: SystemId = Field(description="our item id, resolved from the supplier's product ids")
    uom: UnitOfMeasure
    unit_price: Price
    min_quantity: Decimal | None = Field(default=None, ge=0, description="the quantity the price is for (CTP04)")
    price_type: str | None = Field(default=None, max_length=3, description="X12 CTP02, e.g. CON contract, CAT catalog")
    description: str | None = Field(default=None, max_length=240)


class UnmatchedCatalogItem(DomainModel):
    """A catalog entry naming no item of ours: catalogs list what the supplier sells, not what we
    stock, so it is reported, not refused."""

    product_ids: dict[str, str] = Field(description="qualifier -> id, e.g. {'UK': '1088...', 'VP': 'LMP-NG-M'}")
    reason: str
    position: int | None = Field(default=None, description="the entry's segment in the file")


class CatalogPrices(DomainModel):
    event_id: str = Field(min_length=1, max_length=200)
    catalog_id: str = Field(min_length=1, max_length=80)
    supplier_id: SystemId
    effective_from: date | None = None
    currency: Currency = "USD"
    prices: list[CatalogPrice] = Field(default_factory=list)
    unmatched: list[UnmatchedCatalogItem] = Field(default_factory=list)

    def price_of(self, item_id: str, uom: str) -> CatalogPrice | None:
        return next((p for p in self.prices if p.item_id == item_id and p.uom == uom), None)
