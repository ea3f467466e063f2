"""Inventory port: balances (on hand, on order, in transit) and reservations per location (the
sandbox's `/inventory`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.system_records import InventoryBalance, Reservation, ReservationRequest


class InventoryPort(Protocol):
    async def get_balances(self, location_id: str, item_ids: list[str]) -> list[InventoryBalance]:
        """The balances of these items at the location (items not stocked there are left out)."""
        ...

    async def below_reorder_point(self) -> list[InventoryBalance]:
        """Every balance, at any location, whose on hand is at or below its reorder point (all
        pages): what the replenishment scan looks for when a breach event was lost."""
        ...

    async def reserve(self, request: ReservationRequest, *, idempotency_key: str) -> Reservation: ...

    async def release(self, reservation_id: str, *, idempotency_key: str) -> Reservation:
        """Releasing a released (or unknown) reservation is a no-op."""
        ...

    async def fulfil(self, reservation_id: str, quantity: Decimal, uom: str, *, idempotency_key: str) -> Reservation:
        """Goods arrived: the quantity moves from reserved to on hand."""
        ...
