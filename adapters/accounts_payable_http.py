"""`HttpAccountsPayable`: `AccountsPayablePort` (adapters/accounts_payable.py) over HTTP (`SystemClient`)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import quote

from adapters.http import SystemClient
from domain.purchasing import Invoice
from domain.system_records import ApInvoice, Dispute


class HttpAccountsPayable:
    """`AccountsPayablePort` over AP automation (the sandbox's `/ap`)."""

    def __init__(self, client: SystemClient) -> None:
        self._client = client

    async def find_invoices(
        self, *, supplier_id: str, invoice_number: str | None = None, po_number: str | None = None
    ) -> list[ApInvoice]:
        filters = {"supplier_id": supplier_id, "invoice_number": invoice_number, "po_number": po_number}
        params = {k: v for k, v in filters.items() if v is not None}
        return [ApInvoice.model_validate(item) async for item in self._client.paginate("/invoices", params)]

    async def capture(self, invoice: Invoice, *, captured_by: str, idempotency_key: str) -> ApInvoice:
        body = await self._client.request(
            "POST",
            "/invoices",
            json={"invoice": invoice.model_dump(mode="json"), "captured_by": captured_by},
            idempotency_key=idempotency_key,
        )
        return ApInvoice.model_validate(body)

    async def _action(self, ap_invoice_id: str, action: str, body: Mapping[str, object], key: str) -> ApInvoice:
        answer = await self._client.request(
            "POST", f"/invoices/{quote(ap_invoice_id, safe='')}/{action}", json=body, idempotency_key=key
        )
        return ApInvoice.model_validate(answer)

    async def approve(
        self, ap_invoice_id: str, amount: Decimal, *, reason: str, approved_by: str, idempotency_key: str
    ) -> ApInvoice:
        body = {"amount": str(amount), "reason": reason, "approved_by": approved_by}
        return await self._action(ap_invoice_id, "approve", body, idempotency_key)

    async def mark_exception(
        self, ap_invoice_id: str, *, kinds: list[str], team: str, summary: str, idempotency_key: str
    ) -> ApInvoice:
        body = {"kinds": kinds, "team": team, "summary": summary[:4000]}
        return await self._action(ap_invoice_id, "exception", body, idempotency_key)

    async def request_credit_memo(
        self, ap_invoice_id: str, amount: Decimal, *, reason: str, idempotency_key: str
    ) -> ApInvoice:
        body = {"amount": str(amount), "reason": reason}
        return await self._action(ap_invoice_id, "credit-memo-request", body, idempotency_key)

    async def reject(self, ap_invoice_id: str, *, reason: str, idempotency_key: str) -> ApInvoice:
        return await self._action(ap_invoice_id, "reject", {"reason": reason}, idempotency_key)

    async def list_disputes(self, supplier_id: str) -> list[Dispute]:
        body = await self._client.request("GET", f"/suppliers/{quote(supplier_id, safe='')}/disputes")
        return [Dispute.model_validate(item) for item in body.get("items", [])]

    async def record_dispute(self, dispute: Dispute, *, idempotency_key: str) -> Dispute:
        body = await self._client.request(
            "PUT",
            f"/suppliers/{quote(dispute.supplier_id, safe='')}/disputes/{quote(dispute.dispute_id, safe='')}",
            json=dispute.model_dump(mode="json"),
            idempotency_key=idempotency_key,
        )
        return Dispute.model_validate(body)
