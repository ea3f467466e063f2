"""Contract management (`/contracts`): contracts with their price tiers, the item and location
reference data they price, and its own supplier references (the supplier as the contract system
knows it: name, ERP supplier id, contracts), which a steward edits with PATCH.

Prices stay decimal strings end to end (they parse into `domain.reference.Contract`), so no
price passes through a float.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.reference import Contract
from sandbox.db import DbSession, Documents, utc_now
from sandbox.erp_items import ItemMasterEdit
from sandbox.errors import SandboxError
from sandbox.paging import Paging
from sandbox.seed import load_json
from sandbox.system import SandboxSystem

NAME = "contracts"
CONTRACT = "contract"
ITEM = "item"
LOCATION = "location"
SUPPLIER_REFERENCE = "supplier"

router = APIRouter(prefix=f"/{NAME}", tags=[NAME])


class SupplierLink(BaseModel):
    erp_supplier_id: str = Field(min_length=1, max_length=64)


class SupplierReferenceEdit(BaseModel):
    legal_name: str | None = Field(default=None, min_length=1, max_length=240)
    erp_supplier_id: str | None = Field(default=None, min_length=1, max_length=64)
    contract_ids: list[str] | None = None


def _documents(session: Session) -> Documents:
    return Documents(session, NAME)


@router.get("/contracts")
def list_contracts(
    session: DbSession,
    paging: Paging,
    supplier_id: Annotated[str | None, Query()] = None,
    status: Annotated[str | None, Query()] = None,
    item_id: Annotated[str | None, Query(description="contracts that price this item")] = None,
) -> dict[str, Any]:
    contracts = [
        c
        for c in _documents(session).all(CONTRACT)
        if (not supplier_id or c.get("supplier_id") == supplier_id)
        and (not status or c.get("status") == status)
        and (not item_id or any(p.get("item_id") == item_id for p in c.get("prices") or []))
    ]
    return paging.page(contracts)


@router.get("/contracts/{contract_id}")
def get_contract(session: DbSession, contract_id: str) -> dict[str, Any]:
    return _documents(session).require(CONTRACT, contract_id, label="contract")


@router.post("/contracts/{contract_id}/supplier-link")
def link_supplier(session: DbSession, contract_id: str, link: SupplierLink) -> dict[str, Any]:
    """Sets the contract's supplier when it has none; linking the same supplier again is a no-op."""
    docs = _documents(session)
    contract = docs.require(CONTRACT, contract_id, label="contract")
    current = contract.get("supplier_id")
    if current == link.erp_supplier_id:
        return contract
    if current is not None:
        raise SandboxError(409, "supplier_mismatch", f"contract {contract_id} already belongs to supplier {current}")
    return docs.put(CONTRACT, contract_id, {**contract, "supplier_id": link.erp_supplier_id, "updated_at": utc_now()})


@router.post("/admin/contracts", status_code=201)
def put_contract(session: DbSession, contract: Contract) -> dict[str, Any]:
    """Adds (or replaces) a contract at run time, e.g. one not yet tied to a supplier."""
    body = {**contract.model_dump(mode="json"), "updated_at": utc_now()}
    return _documents(session).put(CONTRACT, contract.contract_id, body)


@router.get("/suppliers")
def list_supplier_references(session: DbSession, paging: Paging) -> dict[str, Any]:
    return paging.page_of(_documents(session), SUPPLIER_REFERENCE)


@router.get("/suppliers/{supplier_ref}")
def get_supplier_reference(session: DbSession, supplier_ref: str) -> dict[str, Any]:
    return _documents(session).require(SUPPLIER_REFERENCE, supplier_ref, label="supplier reference")


@router.patch("/suppliers/{supplier_ref}")
def edit_supplier_reference(session: DbSession, supplier_ref: str, changes: SupplierReferenceEdit) -> dict[str, Any]:
    given = changes.model_dump(exclude_none=True)
    return _documents(session).update(SUPPLIER_REFERENCE, supplier_ref, given, label="supplier reference")


@router.get("/items")
def list_items(session: DbSession, paging: Paging) -> dict[str, Any]:
    return paging.page_of(_documents(session), ITEM)


@router.patch("/items/{item_id}")
def edit_item(session: DbSession, item_id: str, changes: ItemMasterEdit) -> dict[str, Any]:
    return _documents(session).update(ITEM, item_id, changes.model_dump(exclude_none=True), label="item")


@router.get("/locations")
def list_locations(session: DbSession, paging: Paging) -> dict[str, Any]:
    return paging.page(_documents(session).all(LOCATION))


def _as_decimal_strings(contract: dict[str, Any]) -> dict[str, Any]:
    prices = [
        {**tier, **{k: str(tier[k]) for k in ("unit_price", "min_qty") if k in tier}}
        for tier in contract.get("prices", [])
    ]
    return {**contract, "prices": prices}


def _seed(session: Session, seed_dir: Path) -> None:
    docs = _documents(session)
    for contract in load_json(seed_dir, "contracts.json"):
        docs.put(CONTRACT, contract["contract_id"], _as_decimal_strings(contract))
    for item in load_json(seed_dir, "items.json"):
        docs.put(ITEM, item["item_id"], item)
    for location in load_json(seed_dir, "locations.json"):
        docs.put(LOCATION, location["location_id"], location)
    _seed_supplier_references(docs, seed_dir)


def supplier_reference_id(erp_supplier_id: str) -> str:
    """The contract system's own id for a seed supplier (CS-0002 for SUP-0002)."""
    return "CS-" + "".join(ch for ch in erp_supplier_id if ch.isdigit())


def _seed_supplier_references(docs: Documents, seed_dir: Path) -> None:
    contracts = load_json(seed_dir, "contracts.json")
    now = utc_now()
    for supplier in load_json(seed_dir, "erp-suppliers.json"):
        erp_id = supplier["erp_supplier_id"]
        ids = sorted(c["contract_id"] for c in contracts if c.get("supplier_id") == erp_id)
        if ids:
            ref = supplier_reference_id(erp_id)
            body = {"supplier_ref": ref, "legal_name": supplier["legal_name"], "erp_supplier_id": erp_id}
            docs.put(SUPPLIER_REFERENCE, ref, {**body, "contract_ids": ids, "updated_at": now})


SYSTEM = SandboxSystem(name=NAME, router=router, seed=_seed)
