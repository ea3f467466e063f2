"""Accounts-payable automation (`/ap`): captured invoices, exceptions, approval for payment and
payment status, and each supplier's dispute history (seeded from ap-disputes.json when present).

A supplier's invoice number is captured once (normalised: case, punctuation and leading zeros
do not count): a second capture is 409 `duplicate_invoice`. An invoice is approved for payment
at most once: approving an approved invoice returns it unchanged.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.purchasing import Invoice, normalise_invoice_number
from domain.system_records import Dispute
from sandbox.db import DbSession, Documents, utc_now
from sandbox.errors import SandboxError
from sandbox.paging import Paging
from sandbox.seed import load_json
from sandbox.system import SandboxSystem

NAME = "ap"
INVOICE = "invoice"
DISPUTE = "dispute"
DISPUTE_SEED = "ap-disputes.json"

router = APIRouter(prefix=f"/{NAME}", tags=[NAME])


class Capture(BaseModel):
    invoice: Invoice
    captured_by: str = Field(default="unknown", min_length=1, max_length=200)


class Approval(BaseModel):
    amount: Decimal = Field(ge=0)
    reason: str = Field(min_length=1, max_length=500)
    approved_by: str = Field(min_length=1, max_length=120)


class ExceptionNotice(BaseModel):
    kinds: list[str] = Field(min_length=1)
    team: str = Field(min_length=1, max_length=80)
    summary: str = Field(default="", max_length=4000)


class CreditMemoRequest(BaseModel):
    amount: Decimal = Field(ge=0)
    reason: str = Field(min_length=1, max_length=500)


class Rejection(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


def _docs(session: Session) -> Documents:
    return Documents(session, NAME)


def _require(docs: Documents, ap_invoice_id: str) -> dict[str, Any]:
    return docs.require(INVOICE, ap_invoice_id, label="invoice")


def _save(docs: Documents, invoice: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return docs.put(INVOICE, invoice["ap_invoice_id"], {**invoice, **changes, "updated_at": utc_now()})


@router.post("/invoices", status_code=201)
def capture(session: DbSession, request: Capture) -> dict[str, Any]:
    docs = _docs(session)
    invoice = request.invoice
    number = normalise_invoice_number(invoice.invoice_number)
    for existing in docs.all(INVOICE):
        if existing["supplier_id"] == invoice.supplier_id and existing["normalised_number"] == number:
            raise SandboxError(
                409,
                "duplicate_invoice",
                f"supplier {invoice.supplier_id} already has invoice {existing['invoice_number']} "
                f"({existing['ap_invoice_id']})",
            )
    ap_invoice_id = docs.next_id("AP-", 6)
    body = {
        "ap_invoice_id": ap_invoice_id,
        "invoice_number": invoice.invoice_number,
        "normalised_number": number,
        "supplier_id": invoice.supplier_id,
        "po_number": invoice.po_number,
        "invoice_date": invoice.invoice_date.isoformat(),
        "amount": str(invoice.computed_total),
        "status": "captured",
        "approved_amount": None,
        "approvals": 0,
        "payment_status": "unpaid",
        "captured_by": request.captured_by,
        "exception": None,
        "invoice": invoice.model_dump(mode="json"),
        "created_at": utc_now(),
    }
    return docs.put(INVOICE, ap_invoice_id, body)


@router.get("/invoices")
def list_invoices(
    session: DbSession,
    paging: Paging,
    supplier_id: Annotated[str | None, Query()] = None,
    invoice_number: Annotated[str | None, Query()] = None,
    po_number: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    number = normalise_invoice_number(invoice_number) if invoice_number else None
    found = [
        i
        for i in _docs(session).all(INVOICE)
        if (not supplier_id or i["supplier_id"] == supplier_id)
        and (not number or i["normalised_number"] == number)
        and (not po_number or i["po_number"] == po_number)
        and (not status or i["status"] == status)
    ]
    return paging.page(found)


@router.get("/invoices/{ap_invoice_id}")
def get_invoice(session: DbSession, ap_invoice_id: str) -> dict[str, Any]:
    return _require(_docs(session), ap_invoice_id)


@router.post("/invoices/{ap_invoice_id}/approve")
def approve(session: DbSession, ap_invoice_id: str, approval: Approval) -> dict[str, Any]:
    docs = _docs(session)
    invoice = _require(docs, ap_invoice_id)
    if invoice["status"] == "approved":
        return invoice  # never a second approval
    if invoice["status"] == "rejected":
        raise SandboxError(409, "invoice_rejected", f"invoice {ap_invoice_id} was rejected")
    return _save(
        docs,
        invoice,
        status="approved",
        approved_amount=str(approval.amount),
        approvals=int(invoice.get("approvals", 0)) + 1,
        approved_by=approval.approved_by,
        approval_reason=approval.reason,
        payment_status="scheduled",
    )


@router.post("/invoices/{ap_invoice_id}/exception")
def raise_exception(session: DbSession, ap_invoice_id: str, notice: ExceptionNotice) -> dict[str, Any]:
    docs = _docs(session)
    invoice = _require(docs, ap_invoice_id)
    if invoice["status"] not in ("captured", "exception"):
        raise SandboxError(409, "invoice_not_open", f"invoice {ap_invoice_id} is {invoice['status']}")
    return _save(docs, invoice, status="exception", exception=notice.model_dump())


@router.post("/invoices/{ap_invoice_id}/credit-memo-request")
def request_credit_memo(session: DbSession, ap_invoice_id: str, request: CreditMemoRequest) -> dict[str, Any]:
    docs = _docs(session)
    invoice = _require(docs, ap_invoice_id)
    if invoice["status"] in ("approved", "rejected"):
        raise SandboxError(409, "invoice_not_open", f"invoice {ap_invoice_id} is {invoice['status']}")
    credit = {"amount": str(request.amount), "reason": request.reason, "requested_at": utc_now()}
    return _save(docs, invoice, status="credit_memo_requested", credit_memo=credit)


@router.post("/invoices/{ap_invoice_id}/reject")
def reject(session: DbSession, ap_invoice_id: str, rejection: Rejection) -> dict[str, Any]:
    docs = _docs(session)
    invoice = _require(docs, ap_invoice_id)
    if invoice["status"] == "rejected":
        return invoice
    if invoice["status"] == "approved":
        raise SandboxError(409, "invoice_approved", f"invoice {ap_invoice_id} is approved for payment")
    return _save(docs, invoice, status="rejected", rejection_reason=rejection.reason)


@router.post("/invoices/{ap_invoice_id}/pay")
def pay(session: DbSession, ap_invoice_id: str) -> dict[str, Any]:
    """The payment run paid it (a sandbox control: real AP pays on its own schedule)."""
    docs = _docs(session)
    invoice = _require(docs, ap_invoice_id)
    if invoice["status"] != "approved":
        raise SandboxError(409, "invoice_not_approved", f"invoice {ap_invoice_id} is {invoice['status']}")
    return _save(docs, invoice, payment_status="paid", paid_at=utc_now())


@router.get("/suppliers/{supplier_id}/disputes")
def list_disputes(session: DbSession, supplier_id: str) -> dict[str, Any]:
    return {"items": [d for d in _docs(session).all(DISPUTE) if d["supplier_id"] == supplier_id]}


@router.put("/suppliers/{supplier_id}/disputes/{dispute_id}")
def put_dispute(session: DbSession, supplier_id: str, dispute_id: str, dispute: Dispute) -> dict[str, Any]:
    if dispute.supplier_id != supplier_id or dispute.dispute_id != dispute_id:
        raise SandboxError(422, "mismatch", "supplier_id and dispute_id must match the path")
    body = {**dispute.model_dump(mode="json"), "updated_at": utc_now()}
    return _docs(session).put(DISPUTE, dispute_id, body)


def _seed(session: Session, seed_dir: Path) -> None:
    if not (seed_dir / DISPUTE_SEED).exists():
        return
    docs = _docs(session)
    for row in load_json(seed_dir, DISPUTE_SEED):
        dispute = Dispute.model_validate(row)
        docs.put(DISPUTE, dispute.dispute_id, dispute.model_dump(mode="json"))


SYSTEM = SandboxSystem(name=NAME, router=router, seed=_seed)
