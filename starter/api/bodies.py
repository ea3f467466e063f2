"""Request bodies and parameters of the /v1 API that are the API's own (not domain documents),
each described in the OpenAPI document exactly as it is checked:

- receipts and cancellations carry no actor: who received or cancelled is the caller;
- a quantity is a JSON string (`"12.5"`) or an integer, never a float, and the schema's pattern
  is the rule the validator applies, so what the document allows is what the API accepts;
- a query date-time is ISO 8601 only (`0.5` is not read as a Unix time);
- a business id in a path has the one pattern of domain/purchasing.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BeforeValidator, Field

from domain.base import DomainModel
from domain.purchasing import BUSINESS_ID_PATTERN, BUSINESS_ID_RULE, Quantity


class ReceiptBody(DomainModel):
    """Goods received on one PO line; who received them is the caller (never a body field)."""

    line: int = Field(ge=1, le=9999)
    quantity: Quantity
    uom: str | None = Field(
        default=None, max_length=8, pattern=r"^[A-Z0-9]+$", description="defaults to the PO line's unit"
    )


class CancelBody(DomainModel):
    """Why the PO is cancelled; who cancelled it is the caller."""

    reason: str = Field(min_length=3, max_length=500)


def _iso_datetime(value: Any) -> Any:
    """Query datetimes are ISO 8601 only: a bare number (`0.5`) is not read as a Unix time."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("an ISO 8601 date-time is required, e.g. 2026-11-24T10:00:00Z")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_datetime)]
BusinessId = Annotated[str, Path(pattern=BUSINESS_ID_PATTERN, max_length=40, description=BUSINESS_ID_RULE)]
RunId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$", description="a workflow id")]
