"""`ReplenishmentEventsPort`: hand a stock breach to the replenishment of its location and item,
as the inventory webhook does (starter/api), from an activity (the `replenishment-scan`)."""

from __future__ import annotations

from typing import Protocol

from domain.replenishment_models import ReplenishmentPolicy, StockBreach


class ReplenishmentEventsPort(Protocol):
    async def deliver(self, breach: StockBreach, policy: ReplenishmentPolicy) -> str:
        """Signal-with-start `replenishment-<location>-<item>`; returns its workflow id."""
        ...
