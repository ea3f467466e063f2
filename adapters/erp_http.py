"""`HttpErp`: `ErpPort` (adapters/erp.py) over HTTP (`SystemClient`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from adapters.http import SystemClient
from domain.supplier import BankAccount, ErpSupplier, ErpSupplierDraft, ErpSupplierUpdate, SupplierSite


def _segment(value: str) -> str:
    """An id as one path segment, so an id can never reach another resource."""
    return quote(value, safe="")


class HttpErp:
    """`ErpPort` over the ERP's supplier REST resources (the sandbox's `/erp`)."""

    def __init__(self, client: SystemClient) -> None:
        self._client = client

    async def list_suppliers(
        self,
        *,
        tax_id: str | None = None,
        name: str | None = None,
        status: str | None = None,
        external_id: str | None = None,
    ) -> AsyncIterator[ErpSupplier]:
        filters = {"tax_id": tax_id, "name": name, "status": status, "external_id": external_id}
        params = {key: value for key, value in filters.items() if value is not None}
        async for item in self._client.paginate("/suppliers", params):
            yield ErpSupplier.model_validate(item)

    async def get_supplier(self, erp_supplier_id: str) -> ErpSupplier:
        return ErpSupplier.model_validate(await self._client.request("GET", f"/suppliers/{_segment(erp_supplier_id)}"))

    async def create_supplier(self, draft: ErpSupplierDraft, *, idempotency_key: str) -> ErpSupplier:
        body = await self._client.request(
            "POST", "/suppliers", json=draft.model_dump(mode="json"), idempotency_key=idempotency_key
        )
        return ErpSupplier.model_validate(body)

    async def update_supplier(
        self, erp_supplier_id: str, changes: ErpSupplierUpdate, *, idempotency_key: str
    ) -> ErpSupplier:
        body = await self._client.request(
            "PATCH",
            f"/suppliers/{_segment(erp_supplier_id)}",
            json=changes.model_dump(mode="json"),
            idempotency_key=idempotency_key,
        )
        return ErpSupplier.model_validate(body)

    async def add_site(self, erp_supplier_id: str, site: SupplierSite, *, idempotency_key: str) -> str:
        body = await self._client.request(
            "POST",
            f"/suppliers/{_segment(erp_supplier_id)}/sites",
            json=site.model_dump(mode="json"),
            idempotency_key=idempotency_key,
        )
        return str(body["site_id"])

    async def add_bank_account(self, erp_supplier_id: str, account: BankAccount, *, idempotency_key: str) -> str:
        body = await self._client.request(
            "POST",
            f"/suppliers/{_segment(erp_supplier_id)}/bank-accounts",
            json=account.model_dump(mode="json"),
            idempotency_key=idempotency_key,
        )
        return str(body["bank_account_id"])

    async def place_hold(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier:
        return await self._status_action(erp_supplier_id, "hold", reason, idempotency_key)

    async def release_hold(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier:
        return await self._status_action(erp_supplier_id, "release", reason, idempotency_key)

    async def deactivate_supplier(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier:
        return await self._status_action(erp_supplier_id, "deactivate", reason, idempotency_key)

    async def _status_action(self, erp_supplier_id: str, action: str, reason: str, idempotency_key: str) -> ErpSupplier:
        body = await self._client.request(
            "POST",
            f"/suppliers/{_segment(erp_supplier_id)}/{action}",
            json={"reason": reason},
            idempotency_key=idempotency_key,
        )
        return ErpSupplier.model_validate(body)
