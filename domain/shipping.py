"""Advance ship notices: what a supplier says it shipped against a PO, before it arrives.

Quantities are in the unit the supplier shipped (the PO's, usually); whether a line is on the PO
or ships more than ordered is the PO workflow's check (an exception for `receiving`), not the
notice's.
"""

from __future__ import annotations

from datetime import date

from pydantic import Field, model_validator

from domain.base import DomainModel
from domain.purchasing import DocumentNumber, Quantity, SystemId, UnitOfMeasure, _unique_lines


class ShipNoticeLine(DomainModel):
    line: int = Field(ge=1, le=9999, description="the PO line shipped")
    item_id: SystemId
    quantity: Quantity
    uom: UnitOfMeasure


class ShipNotice(DomainModel):
    """An advance ship notice on one PO (an X12 856, or its JSON twin)."""

    event_id: str = Field(min_length=1, max_length=200, description="deterministic: the same notice read twice is one")
    asn_number: DocumentNumber
    po_number: DocumentNumber
    supplier_id: SystemId
    shipped_on: date
    carrier_code: str | None = Field(default=None, max_length=80, description="SCAC, e.g. FDEG")
    carrier_name: str | None = Field(default=None, max_length=80, description="e.g. FedEx Ground")
    tracking_number: str | None = Field(default=None, max_length=80)
    expected_delivery: date | None = None
    ship_to: SystemId | None = Field(default=None, description="location id")
    lines: list[ShipNoticeLine] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _check_lines(self) -> ShipNotice:
        _unique_lines(self.lines, "ship notice")
        return self

    def line(self, number: int) -> ShipNoticeLine | None:
        return next((line for line in self.lines if line.line == number), None)
