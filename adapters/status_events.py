"""`StatusEventsPort`: tell a supplier's status-sync workflow that its vendor status changed, as
the vendor-management webhook does (starter/api/webhooks.py), from an activity (the master-data
sync's status corrections)."""

from __future__ import annotations

from typing import Protocol

from domain.events import VendorStatusEvent


class StatusEventsPort(Protocol):
    async def deliver(self, event: VendorStatusEvent) -> str:
        """Signal-with-start the vendor's status-sync workflow; returns its workflow id."""
        ...
