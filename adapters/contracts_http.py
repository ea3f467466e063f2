"""`HttpContracts`: `ContractsPort` (adapters/contracts.py) over HTTP (`SystemClient`)."""

from __future__ import annotations

from urllib.parse import quote

from adapters.http import SystemClient
from domain.reference import Contract, Item, Location


class HttpContracts:
    """`ContractsPort` over contract management (the sandbox's `/contracts`)."""

    def __init__(self, client: SystemClient) -> None:
        self._client = client

    async def get_contract(self, contract_id: str) -> Contract:
        return Contract.model_validate(await self._client.request("GET", f"/contracts/{quote(contract_id, safe='')}"))

    async def contracts_pricing(self, item_id: str) -> list[Contract]:
        return [Contract.model_validate(c) async for c in self._client.paginate("/contracts", {"item_id": item_id})]

    async def list_items(self) -> list[Item]:
        return [Item.model_validate(item) async for item in self._client.paginate("/items")]

    async def list_locations(self) -> list[Location]:
        return [Location.model_validate(item) async for item in self._client.paginate("/locations")]

    async def link_supplier(self, contract_id: str, erp_supplier_id: str, *, idempotency_key: str) -> Contract:
        body = await self._client.request(
            "POST",
            f"/contracts/{quote(contract_id, safe='')}/supplier-link",
            json={"erp_supplier_id": erp_supplier_id},
            idempotency_key=idempotency_key,
        )
        return Contract.model_validate(body)
