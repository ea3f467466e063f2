"""Business events, cross-references and dead letters as the platform records them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from domain.base import DomainModel, LenientModel
from domain.supplier import VendorStatus


class BusinessEvent(DomainModel):
    """A fact the platform publishes (`supplier.onboarded`, `supplier.hold_placed`, ...).
    `event_id` is derived from the workflow id, so a retried publish is recorded once."""

    event_id: str
    type: str
    subject: str = Field(description="business key, e.g. the vendor-management or ERP supplier id")
    workflow_id: str | None = None
    occurred_at: datetime
    data: dict[str, Any] = Field(default_factory=dict)


class CrossReference(DomainModel):
    """`source_system:source_id` is the same `entity` as `target_system:target_id`."""

    entity: str
    source_system: str
    source_id: str
    target_system: str
    target_id: str
    workflow_id: str | None = None
    created_at: datetime | None = None


class DeadLetter(DomainModel):
    """A record the platform could not process, kept with the reason instead of being dropped."""

    id: int | None = None
    source: str
    record_key: str
    reason: str
    payload: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime | None = None


class VendorStatusEvent(LenientModel):
    """The vendor management system's webhook body for a supplier status change."""

    event_id: str
    type: str = "supplier.status_changed"
    vendor_id: str
    erp_supplier_id: str | None = None
    status: VendorStatus
    reason: str | None = None
    occurred_at: datetime


class PublishEventInput(DomainModel):
    event: BusinessEvent


class PublishEventResult(DomainModel):
    published: bool
