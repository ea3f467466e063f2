"""ERP procurement (`/erp/purchase-orders`, `/erp/invoices`): purchase orders with their lines,
holds and status, receipts against them, and invoice vouchers with holds and payment status.

A PO number is unique: creating it twice is 409 `duplicate_po_number` (a keyed retry is
answered by the idempotency middleware first). Only an open PO takes changes or receipts.
A PO carries its `shipping` ("standard" or "expedited"); one stored before POs had it reads as
"standard".
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.purchasing import PurchaseOrder, ReceiptLine
from domain.system_records import ErpInvoiceDraft, ErpPoLineChange, MatchedLine
from sandbox.db import DbSession, Documents, utc_now
from sandbox.errors import SandboxError
from sandbox.paging import Paging
from sandbox.webhooks import OUTBOX, WebhookDispatcher, new_outbox_entry

NAME = "erp"
PO = "purchase_order"
RECEIPT = "receipt"
INVOICE = "invoice"

router = APIRouter()


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class HoldRequest(Reason):
    kind: str = Field(default="manual", pattern=r"^(manual|supplier_status)$")


class ReceiptRequest(BaseModel):
    lines: list[ReceiptLine] = Field(min_length=1, max_length=500)
    received_by: str = Field(default="receiving", min_length=1, max_length=120)


class InvoiceRelease(Reason):
    approved_amount: Decimal = Field(ge=0)
    matched_lines: list[MatchedLine] = Field(default_factory=list)


def _docs(session: Session) -> Documents:
    return Documents(session, NAME)


def _shown(po: dict[str, Any]) -> dict[str, Any]:
    return {**po, "shipping": po.get("shipping") or "standard"}


def _require_po(docs: Documents, po_number: str) -> dict[str, Any]:
    return _shown(docs.require(PO, po_number, label="purchase order"))


def _require_open(po: dict[str, Any]) -> None:
    if po["status"] != "open":
        raise SandboxError(409, "po_not_open", f"purchase order {po['po_number']} is {po['status']}")


def _save(docs: Documents, po: dict[str, Any]) -> dict[str, Any]:
    return docs.put(PO, po["po_number"], {**po, "updated_at": utc_now()})


@router.post("/purchase-orders", status_code=201, tags=[NAME])
def create_purchase_order(session: DbSession, po: PurchaseOrder) -> dict[str, Any]:
    docs = _docs(session)
    if docs.get(PO, po.po_number) is not None:
        raise SandboxError(409, "duplicate_po_number", f"purchase order {po.po_number} already exists")
    if docs.get("supplier", po.supplier_id) is None:
        raise SandboxError(422, "unknown_supplier", f"supplier_id: supplier {po.supplier_id} does not exist")
    body = po.model_dump(mode="json")
    now = utc_now()
    lines = [
        {**line, "need_by": line.get("need_by") or body.get("need_by"), "status": "open"} for line in body.pop("lines")
    ]
    record = {
        **body,
        "order_date": body.get("order_date") or date.today().isoformat(),
        "status": "open",
        "status_reason": None,
        "hold": None,
        "lines": lines,
        "created_at": now,
        "updated_at": now,
    }
    return docs.put(PO, po.po_number, record)


@router.get("/purchase-orders", tags=[NAME])
def list_purchase_orders(
    session: DbSession,
    paging: Paging,
    supplier_id: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    found = [
        _shown(po)
        for po in _docs(session).all(PO)
        if (not supplier_id or po["supplier_id"] == supplier_id) and (not status or po["status"] == status)
    ]
    return paging.page(found)


@router.get("/purchase-orders/{po_number}", tags=[NAME])
def get_purchase_order(session: DbSession, po_number: str) -> dict[str, Any]:
    return _require_po(_docs(session), po_number)


@router.patch("/purchase-orders/{po_number}/lines/{line}", tags=[NAME])
def change_line(session: DbSession, po_number: str, line: int, change: ErpPoLineChange) -> dict[str, Any]:
    docs = _docs(session)
    po = _require_po(docs, po_number)
    _require_open(po)
    lines = [dict(item) for item in po["lines"]]
    target = next((item for item in lines if item["line"] == line), None)
    if target is None:
        raise SandboxError(404, "not_found", f"purchase order {po_number} has no line {line}")
    target.update(change.model_dump(mode="json", exclude_none=True))
    return _save(docs, {**po, "lines": lines})


@router.post("/purchase-orders/{po_number}/hold", tags=[NAME])
def hold(session: DbSession, po_number: str, request: HoldRequest) -> dict[str, Any]:
    docs = _docs(session)
    po = _require_po(docs, po_number)
    _require_open(po)
    return _save(docs, {**po, "hold": {"reason": request.reason, "kind": request.kind, "placed_at": utc_now()}})


@router.post("/purchase-orders/{po_number}/release", tags=[NAME])
def release(session: DbSession, po_number: str, request: Reason) -> dict[str, Any]:
    docs = _docs(session)
    po = _require_po(docs, po_number)
    return _save(docs, {**po, "hold": None, "status_reason": request.reason})


@router.post("/purchase-orders/{po_number}/cancel", tags=[NAME])
def cancel(session: DbSession, po_number: str, request: Reason) -> dict[str, Any]:
    docs = _docs(session)
    po = _require_po(docs, po_number)
    if po["status"] == "cancelled":
        return po
    if po["status"] == "closed":
        raise SandboxError(409, "po_closed", f"purchase order {po_number} is closed")
    if any(r["po_number"] == po_number for r in docs.all(RECEIPT)):
        raise SandboxError(409, "has_receipts", f"purchase order {po_number} has receipts: it cannot be cancelled")
    return _save(docs, {**po, "status": "cancelled", "status_reason": request.reason})


@router.post("/purchase-orders/{po_number}/close", tags=[NAME])
def close(session: DbSession, po_number: str, request: Reason) -> dict[str, Any]:
    docs = _docs(session)
    po = _require_po(docs, po_number)
    if po["status"] == "closed":
        return po
    _require_open(po)
    return _save(docs, {**po, "status": "closed", "status_reason": request.reason})


@router.post("/purchase-orders/{po_number}/receipts", status_code=201, tags=[NAME])
def record_receipt(session: DbSession, http: Request, po_number: str, request: ReceiptRequest) -> dict[str, Any]:
    """Goods received at the dock. The receipt is also published as a signed `receipt.recorded`
    webhook (the ERP's receiving event) to the platform."""
    docs = _docs(session)
    po = _require_po(docs, po_number)
    _require_open(po)
    known = {line["line"] for line in po["lines"]}
    for index, line in enumerate(request.lines):
        if line.line not in known:
            raise SandboxError(422, "unknown_line", f"lines.{index}.line: PO {po_number} has no line {line.line}")
    receipt_id = docs.next_id("RCV-", 6)
    body = {
        "receipt_id": receipt_id,
        "po_number": po_number,
        "lines": [line.model_dump(mode="json") for line in request.lines],
        "received_by": request.received_by,
        "received_at": utc_now(),
    }
    docs.put(RECEIPT, receipt_id, body)
    event_id = f"rcv-{uuid.uuid4().hex}"
    docs.put(OUTBOX, event_id, new_outbox_entry({"event_id": event_id, "type": "receipt.recorded", **body}))
    session.commit()  # the webhook worker reads the outbox entry from its own session
    dispatcher: WebhookDispatcher = http.app.state.webhooks
    dispatcher.submit(NAME, event_id)
    return body


@router.get("/purchase-orders/{po_number}/receipts", tags=[NAME])
def list_receipts(session: DbSession, po_number: str) -> dict[str, Any]:
    docs = _docs(session)
    _require_po(docs, po_number)
    return {"items": [r for r in docs.all(RECEIPT) if r["po_number"] == po_number]}


@router.post("/invoices", status_code=201, tags=[NAME])
def create_invoice(session: DbSession, draft: ErpInvoiceDraft) -> dict[str, Any]:
    docs = _docs(session)
    invoice = draft.invoice
    erp_invoice_id = docs.next_id("INV-", 6)
    body = {
        "erp_invoice_id": erp_invoice_id,
        "invoice_number": invoice.invoice_number,
        "supplier_id": invoice.supplier_id,
        "po_number": invoice.po_number,
        "invoice_date": invoice.invoice_date.isoformat(),
        "status": draft.status,
        "holds": [hold.model_dump(mode="json") for hold in draft.holds],
        "amount": str(invoice.computed_total),
        "approved_amount": str(draft.approved_amount) if draft.approved_amount is not None else None,
        "matched_lines": [line.model_dump(mode="json") for line in draft.matched_lines],
        "payment_status": "unpaid",
        "invoice": invoice.model_dump(mode="json"),
        "created_at": utc_now(),
    }
    return docs.put(INVOICE, erp_invoice_id, body)


@router.get("/invoices", tags=[NAME])
def list_invoices(
    session: DbSession,
    paging: Paging,
    supplier_id: Annotated[str | None, Query()] = None,
    po_number: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    found = [
        v
        for v in _docs(session).all(INVOICE)
        if (not supplier_id or v["supplier_id"] == supplier_id) and (not po_number or v["po_number"] == po_number)
    ]
    return paging.page(found)


@router.get("/invoices/{erp_invoice_id}", tags=[NAME])
def get_invoice(session: DbSession, erp_invoice_id: str) -> dict[str, Any]:
    return _docs(session).require(INVOICE, erp_invoice_id, label="invoice")


@router.post("/invoices/{erp_invoice_id}/release", tags=[NAME])
def release_invoice(session: DbSession, erp_invoice_id: str, request: InvoiceRelease) -> dict[str, Any]:
    docs = _docs(session)
    voucher = docs.require(INVOICE, erp_invoice_id, label="invoice")
    if voucher["status"] == "cancelled":
        raise SandboxError(409, "invoice_cancelled", f"invoice {erp_invoice_id} is cancelled")
    body = {
        **voucher,
        "status": "approved",
        "holds": [],
        "approved_amount": str(request.approved_amount),
        "matched_lines": [line.model_dump(mode="json") for line in request.matched_lines],
        "status_reason": request.reason,
    }
    return docs.put(INVOICE, erp_invoice_id, body)


@router.post("/invoices/{erp_invoice_id}/cancel", tags=[NAME])
def cancel_invoice(session: DbSession, erp_invoice_id: str, request: Reason) -> dict[str, Any]:
    docs = _docs(session)
    voucher = docs.require(INVOICE, erp_invoice_id, label="invoice")
    if voucher["status"] == "approved":
        raise SandboxError(409, "invoice_approved", f"invoice {erp_invoice_id} is approved for payment")
    return docs.put(INVOICE, erp_invoice_id, {**voucher, "status": "cancelled", "status_reason": request.reason})
