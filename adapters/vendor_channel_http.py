"""`HttpVendorChannel`: `VendorChannelPort` (adapters/vendor_channel.py) over HTTP (`SystemClient`)."""

from __future__ import annotations

import contextlib
from urllib.parse import quote

from adapters.errors import NotFoundError
from adapters.http import SystemClient
from domain.purchasing import PoAcknowledgement
from domain.system_records import VendorNotification

EDI_MEDIA_TYPE = "application/edi-x12"
PARTNER_HEADER = "X-Partner-Id"


class HttpVendorChannel:
    """`VendorChannelPort` over the supplier channel (the sandbox's `/vendor-channel`)."""

    def __init__(self, client: SystemClient) -> None:
        self._client = client

    async def send_purchase_order(self, notification: VendorNotification, *, idempotency_key: str) -> None:
        await self._client.request(
            "POST", "/purchase-orders", json=notification.model_dump(mode="json"), idempotency_key=idempotency_key
        )

    async def cancel_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> None:
        with contextlib.suppress(NotFoundError):  # never notified: nothing to cancel
            await self._client.request(
                "DELETE", f"/purchase-orders/{quote(po_number, safe='')}", params={"reason": reason}
            )

    async def get_acknowledgement(self, po_number: str) -> PoAcknowledgement | None:
        try:
            body = await self._client.request("GET", f"/purchase-orders/{quote(po_number, safe='')}")
        except NotFoundError:
            return None
        ack = body.get("acknowledgement")
        return PoAcknowledgement.model_validate(ack) if ack else None

    async def send_edi(self, partner_id: str, text: str, *, idempotency_key: str) -> str | None:
        """POST the interchange as it is (`application/edi-x12`, UTF-8) to `/edi`; the answer's
        `acknowledgement` is the partner's 997 text, absent or null when it answers nothing."""
        body = await self._client.request(
            "POST",
            "/edi",
            content=text.encode("utf-8"),
            headers={"Content-Type": EDI_MEDIA_TYPE, PARTNER_HEADER: partner_id},
            idempotency_key=idempotency_key,
        )
        acknowledgement = body.get("acknowledgement") if isinstance(body, dict) else None
        return str(acknowledgement) if acknowledgement else None
