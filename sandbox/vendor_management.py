"""Vendor management / credentialing (`/vendor-management`): supplier registrations with their
credential documents, and supplier status changes pushed to the platform as signed webhooks.

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

from domain.supplier import CredentialDocument
from sandbox.db import DbSession, Documents, utc_now
from sandbox.erp import vendor_management_id
from sandbox.errors import SandboxError
from sandbox.paging import Paging
from sandbox.seed import load_json
from sandbox.system import SandboxSystem
from sandbox.webhooks import OUTBOX, WebhookDispatcher, new_outbox_entry, outbox_view

NAME = "vendor-management"
REGISTRATION = "registration"
SEED_DOCUMENTS = (
    {"kind": "w9", "received_on": "2025-01-15", "expires_on": None},
    {"kind": "certificate_of_insurance", "received_on": "2025-11-01", "expires_on": "2027-10-31"},
)

router = APIRouter(prefix=f"/{NAME}", tags=[NAME])


class Registration(BaseModel):
    vendor_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    legal_name: str = Field(min_length=1, max_length=240)
    status: str = Field(default="pending", min_length=1, max_length=40)
    documents: list[CredentialDocument] = Field(default_factory=list)
    erp_supplier_id: str | None = Field(default=None, max_length=64)


class ErpLink(BaseModel):
    erp_supplier_id: str = Field(min_length=1, max_length=64)


class StatusChangeRequest(BaseModel):
    status: Literal["suspended", "credential_expired", "reinstated", "active"]
    reason: str | None = Field(default=None, max_length=500)


class WebhookSettings(BaseModel):
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    secret: str | None = Field(default=None, max_length=500, description="null keeps the current secret")


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


@router.put("/registrations/{vendor_id}/erp-link")
def link_erp_supplier(session: DbSession, vendor_id: str, link: ErpLink) -> dict[str, Any]:
    """Idempotent. An unknown vendor_id gets a minimal registration: the onboarding request that
    led to the ERP supplier came from this system, so the link must not be lost."""
    docs = _documents(session)
    now = utc_now()
    registration = docs.get(REGISTRATION, vendor_id) or {
        "vendor_id": vendor_id,
        "legal_name": None,
        "status": "pending",
        "documents": [],
        "created_at": now,
    }
    if registration.get("erp_supplier_id") == link.erp_supplier_id:
        return registration
    return docs.put(
        REGISTRATION, vendor_id, {**registration, "erp_supplier_id": link.erp_supplier_id, "updated_at": now}
    )


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


@router.get("/admin/webhook")
def get_webhook(request: Request) -> dict[str, Any]:
    target = _dispatcher(request).target
    return {"url": target.url, "secret_configured": bool(target.secret)}


@router.put("/admin/webhook")
async def set_webhook(request: Request, settings: WebhookSettings) -> dict[str, Any]:
    dispatcher = _dispatcher(request)
    dispatcher.target.url = settings.url
    if settings.secret is not None:
        dispatcher.target.secret = settings.secret
    await dispatcher.requeue_pending(NAME)
    return {"url": dispatcher.target.url, "secret_configured": bool(dispatcher.target.secret)}


def _seed(session: Session, seed_dir: Path) -> None:
    docs = _documents(session)
    now = utc_now()
    for supplier in load_json(seed_dir, "erp-suppliers.json"):
        erp_supplier_id = supplier["erp_supplier_id"]
        vendor_id = vendor_management_id(erp_supplier_id)
        registration = {
            "vendor_id": vendor_id,
            "legal_name": supplier["legal_name"],
            "status": "active",
            "erp_supplier_id": erp_supplier_id,
            "documents": [dict(document) for document in SEED_DOCUMENTS],
            "created_at": now,
            "updated_at": now,
        }
        docs.put(REGISTRATION, vendor_id, registration)


SYSTEM = SandboxSystem(name=NAME, router=router, seed=_seed)
