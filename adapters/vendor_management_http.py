"""`HttpVendorManagement`: `VendorManagementPort` (adapters/vendor_management.py) over HTTP (`SystemClient`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from adapters.http import SystemClient
from domain.supplier import VendorRegistration


class HttpVendorManagement:
    """`VendorManagementPort` over the vendor credentialing system (the sandbox's `/vendor-management`)."""

    def __init__(self, client: SystemClient) -> None:
        self._client = client

    async def link_erp_supplier(self, vendor_id: str, erp_supplier_id: str) -> None:
        # PUT of the link is idempotent by itself: sending it twice leaves the same link.
        await self._client.request(
            "PUT",
            f"/registrations/{quote(vendor_id, safe='')}/erp-link",
            json={"erp_supplier_id": erp_supplier_id},
        )

    async def find_registration(self, erp_supplier_id: str) -> VendorRegistration | None:
        body = await self._client.request(
            "GET", "/registrations", params={"erp_supplier_id": erp_supplier_id, "limit": 1}
        )
        items = body.get("items", []) if isinstance(body, dict) else []
        return VendorRegistration.model_validate(items[0]) if items else None

    async def list_registrations(self, status: str | None = None) -> AsyncIterator[VendorRegistration]:
        async for body in self._client.paginate("/registrations", {"status": status} if status else None):
            yield VendorRegistration.model_validate(body)

    async def change_status(self, vendor_id: str, status: str, reason: str, idempotency_key: str) -> None:
        await self._client.request(
            "POST",
            f"/suppliers/{quote(vendor_id, safe='')}/status",
            json={"status": status, "reason": reason[:500]},
            idempotency_key=idempotency_key,
        )
