"""Vendor channel port: PO notifications to suppliers and their acknowledgements
(the sandbox's `/vendor-channel`, standing in for EDI 850/855 or a supplier portal)."""

from __future__ import annotations

from typing import Protocol

from domain.purchasing import PoAcknowledgement
from domain.system_records import VendorNotification


class VendorChannelPort(Protocol):
    async def send_purchase_order(self, notification: VendorNotification, *, idempotency_key: str) -> None:
        """The acknowledgement comes back later as a signed webhook (`po.acknowledged`)."""
        ...

    async def cancel_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> None:
        """Cancelling an unknown or cancelled PO is a no-op."""
        ...

    async def get_acknowledgement(self, po_number: str) -> PoAcknowledgement | None: ...
