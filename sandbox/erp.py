"""ERP supplier master (`/erp`), modelled on a cloud ERP's supplier REST resources.

Suppliers are stored in the shape they are returned in (it parses into
`domain.supplier.ErpSupplier`). A tax id may be held by one supplier only: creating a second
supplier with it is refused with 409 `duplicate_tax_id`, unless the request replays the
Idempotency-Key of the one that created it (the idempotency middleware answers that replay
before this module sees it). Sites and bank accounts live in `sandbox.erp_sites`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.supplier import BankAccount, ErpSupplierDraft, ErpSupplierUpdate, SitePurpose, SupplierSite
from sandbox import erp_items, erp_purchasing, erp_sites
from sandbox.db import DbSession, Documents, utc_now
from sandbox.errors import SandboxError
from sandbox.paging import Paging
from sandbox.seed import load_json
from sandbox.system import SandboxSystem

NAME = "erp"
SUPPLIER = "supplier"
SUPPLIER_PREFIX = "SUP-"
SUPPLIER_ID_WIDTH = 4
VENDOR_MANAGEMENT_ID_BASE = 100000  # SUP-0001 is VM-100001 in the vendor management seed

router = APIRouter(prefix=f"/{NAME}", tags=[NAME])
router.include_router(erp_sites.router)
router.include_router(erp_purchasing.router)
router.include_router(erp_items.router)


class ErpSupplierEdit(ErpSupplierUpdate):
    """What a PATCH may change: the fields onboarding sets, and those a data steward edits in the
    ERP's supplier header (the status changes by hold/release/deactivate, the remit-to address
    and bank account by their own resources)."""

    legal_name: str | None = Field(default=None, min_length=1, max_length=240)
    dba_name: str | None = Field(default=None, max_length=240)
    payment_terms: str | None = Field(default=None, min_length=1, max_length=40)


class StatusChange(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _documents(session: Session) -> Documents:
    return Documents(session, NAME)


def _require_supplier(docs: Documents, erp_supplier_id: str) -> dict[str, Any]:
    return docs.require(SUPPLIER, erp_supplier_id, label="supplier")


def _matches(
    supplier: dict[str, Any],
    tax_id: str | None,
    name: str | None,
    status: str | None,
    external_id: str | None,
) -> bool:
    if tax_id and _digits(str((supplier.get("tax_id") or {}).get("value", ""))) != _digits(tax_id):
        return False
    if name:
        names = (supplier.get("legal_name") or "", supplier.get("dba_name") or "")
        if not any(name.casefold() in candidate.casefold() for candidate in names):
            return False
    if status and supplier.get("status") != status:
        return False
    return not (external_id and external_id not in (supplier.get("external_ids") or {}).values())


@router.get("/suppliers")
def list_suppliers(
    session: DbSession,
    paging: Paging,
    tax_id: Annotated[str | None, Query()] = None,
    name: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    external_id: Annotated[str | None, Query()] = None,
    expand: Annotated[str | None, Query(description="sites,bank_accounts: include them (masked)")] = None,
) -> dict[str, Any]:
    docs = _documents(session)
    if any((tax_id, name, status, external_id)):
        page = paging.page([s for s in docs.all(SUPPLIER) if _matches(s, tax_id, name, status, external_id)])
    else:
        page = paging.page_of(docs, SUPPLIER)
    wanted = {part.strip() for part in (expand or "").split(",") if part.strip()}
    unknown = wanted - {"sites", "bank_accounts"}
    if unknown:
        raise SandboxError(422, "validation_error", f"query.expand: unknown {', '.join(sorted(unknown))}")
    if wanted:
        page["items"] = erp_sites.expanded(docs, page["items"], wanted)
    return page


@router.get("/suppliers/{erp_supplier_id}")
def get_supplier(session: DbSession, erp_supplier_id: str) -> dict[str, Any]:
    return _require_supplier(_documents(session), erp_supplier_id)


@router.post("/suppliers", status_code=201)
def create_supplier(session: DbSession, draft: ErpSupplierDraft) -> dict[str, Any]:
    docs = _documents(session)
    digits = draft.tax_id.digits()
    if any(_digits(str((s.get("tax_id") or {}).get("value", ""))) == digits for s in docs.all(SUPPLIER)):
        # The detail names the field, never the value.
        raise SandboxError(409, "duplicate_tax_id", "another supplier already holds this tax_id")
    erp_supplier_id = docs.next_id(SUPPLIER_PREFIX, SUPPLIER_ID_WIDTH)
    return docs.put(SUPPLIER, erp_supplier_id, _new_supplier(erp_supplier_id, draft.model_dump(mode="json")))


@router.patch("/suppliers/{erp_supplier_id}")
def update_supplier(session: DbSession, erp_supplier_id: str, changes: ErpSupplierEdit) -> dict[str, Any]:
    given = {field: value for field, value in changes.model_dump(mode="json").items() if value is not None}
    return _documents(session).update(SUPPLIER, erp_supplier_id, given, label="supplier")


@router.post("/suppliers/{erp_supplier_id}/hold")
def place_hold(session: DbSession, erp_supplier_id: str, change: StatusChange) -> dict[str, Any]:
    """An inactive supplier stays inactive; the hold reason is still recorded."""
    docs = _documents(session)
    supplier = _require_supplier(docs, erp_supplier_id)
    status = "inactive" if supplier["status"] == "inactive" else "on_hold"
    return _save_status(docs, supplier, status, hold_reason=change.reason, reason=change.reason)


@router.post("/suppliers/{erp_supplier_id}/release")
def release_hold(session: DbSession, erp_supplier_id: str, change: StatusChange) -> dict[str, Any]:
    docs = _documents(session)
    supplier = _require_supplier(docs, erp_supplier_id)
    status = "active" if supplier["status"] == "on_hold" else supplier["status"]
    return _save_status(docs, supplier, status, hold_reason=None, reason=change.reason)


@router.post("/suppliers/{erp_supplier_id}/deactivate")
def deactivate_supplier(session: DbSession, erp_supplier_id: str, change: StatusChange) -> dict[str, Any]:
    docs = _documents(session)
    supplier = _require_supplier(docs, erp_supplier_id)
    return _save_status(docs, supplier, "inactive", hold_reason=supplier.get("hold_reason"), reason=change.reason)


def _save_status(
    docs: Documents, supplier: dict[str, Any], status: str, *, hold_reason: str | None, reason: str
) -> dict[str, Any]:
    updated = {**supplier, "status": status, "hold_reason": hold_reason, "status_reason": reason}
    return docs.put(SUPPLIER, supplier["erp_supplier_id"], {**updated, "updated_at": utc_now()})


def _new_supplier(erp_supplier_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    now = utc_now()
    identifiers = {key: value for key, value in (fields.get("identifiers") or {}).items() if value}
    return {
        "erp_supplier_id": erp_supplier_id,
        "legal_name": fields["legal_name"],
        "dba_name": fields.get("dba_name"),
        "tax_id": fields["tax_id"],
        "status": fields.get("status", "active"),
        "hold_reason": None,
        "status_reason": None,
        "payment_terms": fields.get("payment_terms"),
        "identifiers": identifiers,
        "categories": list(fields.get("categories") or []),
        "diversity": list(fields.get("diversity") or []),
        "external_ids": dict(fields.get("external_ids") or {}),
        "created_at": now,
        "updated_at": now,
    }


def vendor_management_id(erp_supplier_id: str) -> str:
    """The vendor management registration the seed pairs with an ERP seed supplier."""
    return f"VM-{VENDOR_MANAGEMENT_ID_BASE + int(_digits(erp_supplier_id))}"


def _seed(session: Session, seed_dir: Path) -> None:
    docs = _documents(session)
    highest = 0
    for record in load_json(seed_dir, "erp-suppliers.json"):
        erp_supplier_id = record["erp_supplier_id"]
        supplier = _new_supplier(
            erp_supplier_id,
            {**record, "external_ids": {"vendor_management": vendor_management_id(erp_supplier_id)}},
        )
        docs.put(SUPPLIER, erp_supplier_id, supplier)
        if record.get("remit_to"):
            site = SupplierSite(purpose=SitePurpose.REMIT_TO, address=record["remit_to"])
            erp_sites.store_site(docs, erp_supplier_id, site)
        if record.get("bank_account"):
            erp_sites.store_bank_account(docs, erp_supplier_id, BankAccount.model_validate(record["bank_account"]))
        highest = max(highest, int(_digits(erp_supplier_id) or 0))
    docs.advance_counter(SUPPLIER_PREFIX, highest)
    erp_items.seed_items(session, seed_dir)


SYSTEM = SandboxSystem(name=NAME, router=router, seed=_seed)
