"""Vendor management / credentialing port."""

from __future__ import annotations

from typing import Protocol

from domain.supplier import VendorRegistration


class VendorManagementPort(Protocol):
    async def link_erp_supplier(self, vendor_id: str, erp_supplier_id: str) -> None:
        """Tell the vendor system which ERP supplier its registration became (idempotent)."""
        ...

    async def find_registration(self, erp_supplier_id: str) -> VendorRegistration | None:
        """The registration linked to this ERP supplier, with its credential documents."""
        ...
