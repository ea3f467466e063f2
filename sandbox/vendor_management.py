"""Vendor management / credentialing (`/vendor-management`): the supplier master a credentialing
system keeps (legal and DBA name, tax id, address, identifiers, contacts, diversity, categories,
credential documents, and the payment terms and bank account the supplier declared), and supplier
status changes pushed to the platform as signed webhooks.

A data steward edits a registration as a whole (`POST /registrations`, `PUT
/registrations/{vendor_id}`) or field by field (`PATCH /registrations/{vendor_id}`: only the fields
given change; `null` clears one). Every change stamps `updated_at`.

A status change is recorded on the registration and in the webhook outbox in one transaction,
then handed to the shared `WebhookDispatcher` (sandbox/webhooks.py) for delivery; the route
answers 202 with the event and its delivery state.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.supplier import Address, BankAccount, Contact, CredentialDocument, Identifiers, TaxId
from sandbox.db import DbSession, Documents, utc_now
from sandbox.erp import vendor_management_id
from sandbox.errors import SandboxError
from sandbox.paging import Paging
from sandbox.seed import load_json
from sandbox.system import SandboxSystem
from sandbox.webhooks import OUTBOX, WebhookDispatcher, add_webhook_admin_routes, new_outbox_entry, outbox_view

NAME = "vendor-management"
REGISTRATION = "registration"
SEED_DOCUMENTS = (
    {"kind": "w9", "received_on": "2025-01-15", "expires_on": None},
    {"kind": "certificate_of_insurance", "received_on": "2025-11-01", "expires_on": "2027-10-31"},
)

router = APIRouter(prefix=f"/{NAME}", tags=[NAME])


class MasterFields(BaseModel):
    """The supplier master fields a steward may edit (all optional: a PATCH names some)."""

    legal_name: str | None = Field(default=None, min_length=1, max_length=240)
    dba_name: str | None = Field(default=None, max_length=240)
    tax_id: TaxId | None = None
    address: Address | None = None
    identifiers: Identifiers | None = None
    contacts: list[Contact] | None = None
    diversity: list[str] | None = None
    categories: list[str] | None = Field(default=None, description="UNSPSC codes")
    payment_terms: str | None = Field(default=None, max_length=40)
    bank_account: BankAccount | None = None
    documents: list[CredentialDocument] | None = None
    erp_supplier_id: str | None = Field(default=None, max_length=64)


class Registration(MasterFields):
    vendor_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    legal_name: str = Field(min_length=1, max_length=240)
    status: str = Field(default="pending", min_length=1, max_length=40)
    documents: list[CredentialDocument] = Field(default_factory=list)


class ErpLink(BaseModel):
    erp_supplier_id: str = Field(min_length=1, max_length=64)


class StatusChangeRequest(BaseModel):
    status: Literal["suspended", "credential_expired", "reinstated", "active"]
    reason: str | None = Field(default=None, max_length=500)


def _documents(session: Session) -> Documents:
    return Documents(session, NAME)


def _dispatcher(request: Request) -> WebhookDispatcher:
    dispatcher: WebhookDispatcher = request.app.state.webhooks
    return dispatcher


@router.get("/registrations")
def list_registrations(
    session: DbSession,
    paging: Paging,
    status: Annotated[str | None, Query()] = None,
    erp_supplier_id: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    if not status and not erp_supplier_id:
        return paging.page_of(_documents(session), REGISTRATION)
    registrations = [
        r
        for r in _documents(session).all(REGISTRATION)
        if (not status or r.get("status") == status)
        and (not erp_supplier_id or r.get("erp_supplier_id") == erp_supplier_id)
    ]
    return paging.page(registrations)


@router.get("/registrations/{vendor_id}")
def get_registration(session: DbSession, vendor_id: str) -> dict[str, Any]:
    return _documents(session).require(REGISTRATION, vendor_id, label="registration")


@router.post("/registrations", status_code=201)
def upsert_registration(session: DbSession, registration: Registration, response: Response) -> dict[str, Any]:
    """Creates the registration (201) or replaces the one with this vendor_id (200)."""
    docs = _documents(session)
    existing = docs.get(REGISTRATION, registration.vendor_id)
    now = utc_now()
    body = {**registration.model_dump(mode="json"), "created_at": (existing or {}).get("created_at", now)}
    if existing is not None:
        response.status_code = 200
    return docs.put(REGISTRATION, registration.vendor_id, {**body, "updated_at": now})


@router.put("/registrations/{vendor_id}")
def replace_registration(session: DbSession, vendor_id: str, registration: MasterFields) -> dict[str, Any]:
    """A steward's full edit: every master field as given (an omitted one is cleared); the
    status, its history and the ERP link stay."""
    docs = _documents(session)
    existing = docs.require(REGISTRATION, vendor_id, label="registration")
    fields = registration.model_dump(mode="json")
    fields["documents"] = fields["documents"] or []
    if fields["legal_name"] is None:
        raise SandboxError(422, "validation_error", "body.legal_name: required")
    fields["erp_supplier_id"] = fields["erp_supplier_id"] or existing.get("erp_supplier_id")
    return docs.put(REGISTRATION, vendor_id, {**existing, **fields, "updated_at": utc_now()})


@router.patch("/registrations/{vendor_id}")
def edit_registration(session: DbSession, vendor_id: str, changes: MasterFields) -> dict[str, Any]:
    """Only the fields given change (`null` clears a field; legal_name cannot be cleared)."""
    given = changes.model_dump(mode="json", include=changes.model_fields_set)
    if "legal_name" in given and given["legal_name"] is None:
        raise SandboxError(422, "validation_error", "body.legal_name: cannot be cleared")
    if "documents" in given and given["documents"] is None:
        given["documents"] = []
    return _documents(session).update(REGISTRATION, vendor_id, given, label="registration")


@router.put("/registrations/{vendor_id}/erp-link")
def link_erp_supplier(session: DbSession, vendor_id: str, link: ErpLink) -> dict[str, Any]:
    """Idempotent. An unknown vendor_id gets a registration holding what the ERP supplier holds:
    the onboarding request that led to the ERP supplier came from this system (a sandbox shortcut:
    a real credentialing system has the registration before onboarding starts), so neither the link
    nor the supplier's master data may be missing here."""
    docs = _documents(session)
    now = utc_now()
    registration = docs.get(REGISTRATION, vendor_id) or {
        "vendor_id": vendor_id,
        **_master_fields_from_erp(session, link.erp_supplier_id),
        "status": "active",
        "documents": [],
        "created_at": now,
    }
    if registration.get("erp_supplier_id") == link.erp_supplier_id:
        return registration
    return docs.put(
        REGISTRATION, vendor_id, {**registration, "erp_supplier_id": link.erp_supplier_id, "updated_at": now}
    )


def _master_fields_from_erp(session: Session, erp_supplier_id: str) -> dict[str, Any]:
    erp = Documents(session, "erp")
    supplier = erp.get("supplier", erp_supplier_id)
    if supplier is None:
        return {"legal_name": None}
    sites = [s for s in erp.all("site") if s["erp_supplier_id"] == erp_supplier_id and s["purpose"] == "remit_to"]
    banks = [b for b in erp.all("bank_account") if b["erp_supplier_id"] == erp_supplier_id]
    bank = {k: banks[-1][k] for k in ("routing_number", "account_number", "account_type", "holder_name")} if banks \
        else None  # fmt: skip
    fields = {**supplier, "remit_to": sites[-1]["address"] if sites else None, "bank_account": bank}
    return seed_master_fields(fields)


@router.get("/registrations/{vendor_id}/documents")
def list_documents(session: DbSession, vendor_id: str) -> dict[str, Any]:
    registration = _documents(session).require(REGISTRATION, vendor_id, label="registration")
    return {"items": registration.get("documents", [])}


@router.post("/suppliers/{ref}/status", status_code=202)
def change_status(session: DbSession, request: Request, ref: str, change: StatusChangeRequest) -> dict[str, Any]:
    """`ref` is a vendor_id or an ERP supplier id some registration is linked to."""
    docs = _documents(session)
    registration = _find_registration(docs, ref)
    now = datetime.now(UTC)
    event = {
        "event_id": f"evt-{uuid.uuid4().hex}",
        "type": "supplier.status_changed",
        "vendor_id": registration["vendor_id"],
        "erp_supplier_id": registration.get("erp_supplier_id"),
        "status": change.status,
        "reason": change.reason,
        "occurred_at": now.isoformat(),
    }
    updated = {
        **registration,
        "status": change.status,
        "status_reason": change.reason,
        "updated_at": now.isoformat(),
    }
    docs.put(REGISTRATION, registration["vendor_id"], updated)
    entry = docs.put(OUTBOX, event["event_id"], new_outbox_entry(event))
    session.commit()  # the worker reads the outbox entry: it must be committed before it is queued
    _dispatcher(request).submit(NAME, event["event_id"])
    return outbox_view(entry)


def _find_registration(docs: Documents, ref: str) -> dict[str, Any]:
    registration = docs.get(REGISTRATION, ref)
    if registration is not None:
        return registration
    for candidate in docs.all(REGISTRATION):
        if candidate.get("erp_supplier_id") == ref:
            return candidate
    raise SandboxError(404, "not_found", f"no registration has vendor_id or erp_supplier_id {ref}")


@router.get("/events")
def list_events(session: DbSession, paging: Paging) -> dict[str, Any]:
    return paging.page([outbox_view(entry) for entry in _documents(session).all(OUTBOX)])


add_webhook_admin_routes(router, NAME, own_target=False)  # the shared target (`webhook_url`)


def _seed(session: Session, seed_dir: Path) -> None:
    docs = _documents(session)
    now = utc_now()
    for supplier in load_json(seed_dir, "erp-suppliers.json"):
        erp_supplier_id = supplier["erp_supplier_id"]
        vendor_id = vendor_management_id(erp_supplier_id)
        registration = {
            "vendor_id": vendor_id,
            **seed_master_fields(supplier),
            "status": "inactive" if supplier.get("status") == "inactive" else "active",
            "erp_supplier_id": erp_supplier_id,
            "documents": [dict(document) for document in SEED_DOCUMENTS],
            "created_at": now,
            "updated_at": now,
        }
        docs.put(REGISTRATION, vendor_id, registration)


def seed_master_fields(supplier: dict[str, Any]) -> dict[str, Any]:
    """The master fields a registration holds for an ERP seed supplier (the same facts)."""
    fields = MasterFields(
        legal_name=supplier["legal_name"],
        dba_name=supplier.get("dba_name"),
        tax_id=supplier.get("tax_id"),
        address=supplier.get("remit_to"),
        identifiers=supplier.get("identifiers"),
        diversity=supplier.get("diversity"),
        categories=supplier.get("categories"),
        payment_terms=supplier.get("payment_terms"),
        bank_account=supplier.get("bank_account"),
    )
    return fields.model_dump(mode="json", exclude={"documents", "erp_supplier_id"})


SYSTEM = SandboxSystem(name=NAME, router=router, seed=_seed)
