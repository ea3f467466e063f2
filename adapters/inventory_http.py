"""`HttpInventory`: `InventoryPort` (adapters/inventory.py) over HTTP (`SystemClient`)."""

from __future__ import annotations

from decimal import Decimal
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
