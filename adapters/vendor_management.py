"""Vendor management / credentialing port."""

from __future__ import annotations

from typing import Protocol


class VendorManagementPort(Protocol):
    async def link_erp_supplier(self, vendor_id: str, erp_supplier_id: str) -> None:
        """Tell the vendor system which ERP supplier its registration became (idempotent)."""
        ...
