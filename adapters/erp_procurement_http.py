"""`HttpErpProcurement`: `ErpProcurementPort` (adapters/erp_procurement.py) over HTTP (`SystemClient`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

from adapters.http import SystemClient
from domain.purchasing import PurchaseOrder, Receipt, ReceiptLine
from domain.system_records import ErpInvoice, ErpInvoiceDraft, ErpPoLineChange, ErpPurchaseOrder, MatchedLine


def _segment(value: str) -> str:
    return quote(value, safe="")


class HttpErpProcurement:
    """`ErpProcurementPort` over the ERP's procurement resources (the sandbox's `/erp`)."""

    def __init__(self, client: SystemClient) -> None:
        self._client = client

    async def create_purchase_order(self, po: PurchaseOrder, *, idempotency_key: str) -> ErpPurchaseOrder:
        body = await self._client.request(
            "POST", "/purchase-orders", json=po.model_dump(mode="json"), idempotency_key=idempotency_key
        )
        return ErpPurchaseOrder.model_validate(body)

    async def get_purchase_order(self, po_number: str) -> ErpPurchaseOrder:
        return ErpPurchaseOrder.model_validate(
            await self._client.request("GET", f"/purchase-orders/{_segment(po_number)}")
        )

    async def list_purchase_orders(
        self, *, supplier_id: str | None = None, status: str | None = None
    ) -> AsyncIterator[ErpPurchaseOrder]:
        params = {k: v for k, v in {"supplier_id": supplier_id, "status": status}.items() if v is not None}
        async for item in self._client.paginate("/purchase-orders", params):
            yield ErpPurchaseOrder.model_validate(item)

    async def change_po_line(
        self, po_number: str, line: int, change: ErpPoLineChange, *, idempotency_key: str
    ) -> ErpPurchaseOrder:
        body = await self._client.request(
            "PATCH",
            f"/purchase-orders/{_segment(po_number)}/lines/{int(line)}",
            json=change.model_dump(mode="json", exclude_none=True),
            idempotency_key=idempotency_key,
        )
        return ErpPurchaseOrder.model_validate(body)

    async def _po_action(self, po_number: str, action: str, body: dict[str, str], key: str) -> ErpPurchaseOrder:
        answer = await self._client.request(
            "POST", f"/purchase-orders/{_segment(po_number)}/{action}", json=body, idempotency_key=key
        )
        return ErpPurchaseOrder.model_validate(answer)

    async def hold_purchase_order(
        self, po_number: str, reason: str, *, kind: str, idempotency_key: str
    ) -> ErpPurchaseOrder:
        return await self._po_action(po_number, "hold", {"reason": reason, "kind": kind}, idempotency_key)

    async def release_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder:
        return await self._po_action(po_number, "release", {"reason": reason}, idempotency_key)

    async def cancel_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder:
        return await self._po_action(po_number, "cancel", {"reason": reason}, idempotency_key)

    async def close_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder:
        return await self._po_action(po_number, "close", {"reason": reason}, idempotency_key)

    async def record_receipt(
        self, po_number: str, lines: list[ReceiptLine], *, received_by: str, idempotency_key: str
    ) -> Receipt:
        body = await self._client.request(
            "POST",
            f"/purchase-orders/{_segment(po_number)}/receipts",
            json={"lines": [line.model_dump(mode="json") for line in lines], "received_by": received_by},
            idempotency_key=idempotency_key,
        )
        return Receipt.model_validate(body)

    async def list_receipts(self, po_number: str) -> list[Receipt]:
        body = await self._client.request("GET", f"/purchase-orders/{_segment(po_number)}/receipts")
        return [Receipt.model_validate(item) for item in body.get("items", [])]

    async def create_invoice(self, draft: ErpInvoiceDraft, *, idempotency_key: str) -> ErpInvoice:
        body = await self._client.request(
            "POST", "/invoices", json=draft.model_dump(mode="json"), idempotency_key=idempotency_key
        )
        return ErpInvoice.model_validate(body)

    async def list_invoices(self, *, supplier_id: str | None = None, po_number: str | None = None) -> list[ErpInvoice]:
        params = {k: v for k, v in {"supplier_id": supplier_id, "po_number": po_number}.items() if v is not None}
        return [ErpInvoice.model_validate(item) async for item in self._client.paginate("/invoices", params)]

    async def release_invoice(
        self,
        erp_invoice_id: str,
        reason: str,
        *,
        approved_amount: str,
        matched_lines: list[MatchedLine],
        idempotency_key: str,
    ) -> ErpInvoice:
        body = await self._client.request(
            "POST",
            f"/invoices/{_segment(erp_invoice_id)}/release",
            json={
                "reason": reason,
                "approved_amount": approved_amount,
                "matched_lines": [line.model_dump(mode="json") for line in matched_lines],
            },
            idempotency_key=idempotency_key,
        )
        return ErpInvoice.model_validate(body)

    async def cancel_invoice(self, erp_invoice_id: str, reason: str, *, idempotency_key: str) -> ErpInvoice:
        body = await self._client.request(
            "POST",
            f"/invoices/{_segment(erp_invoice_id)}/cancel",
            json={"reason": reason},
            idempotency_key=idempotency_key,
        )
        return ErpInvoice.model_validate(body)
