"""`HttpInventory`: `InventoryPort` (adapters/inventory.py) over HTTP (`SystemClient`)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from adapters.errors import NotFoundError
from adapters.http import SystemClient
from domain.system_records import InventoryBalance, Reservation, ReservationRequest


class HttpInventory:
    """`InventoryPort` over the inventory system (the sandbox's `/inventory`)."""

    def __init__(self, client: SystemClient) -> None:
        self._client = client

    async def get_balances(self, location_id: str, item_ids: list[str]) -> list[InventoryBalance]:
        params: dict[str, object] = {"location_id": location_id, "item_id": item_ids}
        return [InventoryBalance.model_validate(item) async for item in self._client.paginate("/balances", params)]

    async def below_reorder_point(self) -> list[InventoryBalance]:
        params = {"below_reorder_point": "true"}
        return [InventoryBalance.model_validate(item) async for item in self._client.paginate("/balances", params)]

    async def consume(
        self,
        location_id: str,
        item_id: str,
        quantity: Decimal,
        uom: str | None = None,
        reference: str | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Record consumption (a cart scan, a cabinet pull): `{consumption_id, balance, breached,
        event_id}`. Always sent with an Idempotency-Key (a new one unless given), so the client's
        own retries of a lost answer never consume twice."""
        body: dict[str, Any] = {"location_id": location_id, "item_id": item_id, "quantity": str(quantity), "uom": uom}
        if reference is not None:
            body["reference"] = reference
        answer: dict[str, Any] = await self._client.request(
            "POST", "/consumption", json=body, idempotency_key=idempotency_key or f"consume-{uuid.uuid4().hex}"
        )
        return answer

    async def reserve(self, request: ReservationRequest, *, idempotency_key: str) -> Reservation:
        body = await self._client.request(
            "POST", "/reservations", json=request.model_dump(mode="json"), idempotency_key=idempotency_key
        )
        return Reservation.model_validate(body)

    async def release(self, reservation_id: str, *, idempotency_key: str) -> Reservation:
        try:
            body = await self._client.request("DELETE", f"/reservations/{quote(reservation_id, safe='')}")
        except NotFoundError:
            return Reservation(
                reservation_id=reservation_id,
                location_id="",
                item_id="",
                quantity=Decimal(0),
                uom="",
                status="released",
            )
        return Reservation.model_validate(body)

    async def fulfil(self, reservation_id: str, quantity: Decimal, uom: str, *, idempotency_key: str) -> Reservation:
        body = await self._client.request(
            "POST",
            f"/reservations/{quote(reservation_id, safe='')}/fulfil",
            json={"quantity": str(quantity), "uom": uom},
            idempotency_key=idempotency_key,
        )
        return Reservation.model_validate(body)
