"""Vendor channel port: PO notifications to suppliers and their acknowledgements
(the sandbox's `/vendor-channel`, standing in for a supplier portal), and X12 interchanges to
trading partners that trade by EDI (`/vendor-channel/edi`)."""

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

    async def send_edi(self, partner_id: str, text: str, *, idempotency_key: str) -> str | None:
        """Deliver an X12 interchange (an 850, or a 997/999/TA1 answering one of theirs) to the
        trading partner `partner_id` (our partner id, e.g. CASCADIAPHARM). Returns the partner's
        immediate acknowledgement as X12 text (the 997 for an 850), or None when it answers
        nothing at once (acknowledgements are never acknowledged; an 855 comes later as a file)."""
        ...
