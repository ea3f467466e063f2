"""Vendor management / credentialing port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from domain.supplier import VendorRegistration


class VendorManagementPort(Protocol):
    async def link_erp_supplier(self, vendor_id: str, erp_supplier_id: str) -> None:
        """Tell the vendor system which ERP supplier its registration became (idempotent)."""
        ...

    async def find_registration(self, erp_supplier_id: str) -> VendorRegistration | None:
        """The registration linked to this ERP supplier, with its credential documents."""
        ...

    def list_registrations(self, status: str | None = None) -> AsyncIterator[VendorRegistration]:
        """Every registration (with `status`, when given), paged through."""
        ...

    async def change_status(self, vendor_id: str, status: str, reason: str, idempotency_key: str) -> None:
        """Set a supplier's status (suspended, credential_expired, ...): the system records it and
        sends its signed status webhook, so the status sync holds or releases it in the ERP."""
        ...
