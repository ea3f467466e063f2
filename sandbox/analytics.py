"""An analytics platform (`/analytics`) that receives the golden supplier, item and contract dimensions
from the master-data sync: one record per key, replaced as a whole (a dimension row is the golden
record at the time of the sync). Written one by one (`PUT /analytics/{dimension}/{key}`) or in
batches (`POST /analytics/{dimension}/batch`, all or nothing, with an Idempotency-Key like every
sandbox write). Seeded with the seed suppliers and items, so a sync finds what is missing.

It also subscribes to the platform's business events (`supplybridge up` adds the subscription
`sandbox-analytics` for supplier, item and master-data events): `POST /analytics/events` takes a
structured CloudEvent signed with the shared webhook secret (the one route open without the
bearer token: the signature is its authentication), keeps it once per event id (a redelivery is
answered 200 `duplicate: true`), and `GET /analytics/events` lists what arrived, oldest first."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from runtime.webhooks import SIGNATURE_HEADER, verify
from sandbox.db import DbSession, Documents, utc_now
from sandbox.erp import vendor_management_id
from sandbox.errors import SandboxError
from sandbox.paging import Paging
from sandbox.seed import load_json
from sandbox.system import SandboxSystem

NAME = "analytics"
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

router = APIRouter(prefix=f"/{NAME}", tags=[NAME])


class Dimension(StrEnum):
    SUPPLIERS = "suppliers"
    ITEMS = "items"
    CONTRACTS = "contracts"


class DimensionRow(BaseModel):
    key: str = Field(pattern=KEY_PATTERN)
    attributes: dict[str, Any] = Field(description="the golden record's fields (never sensitive ones)")


class DimensionBatch(BaseModel):
    rows: list[DimensionRow] = Field(min_length=1, max_length=1000)


def _documents(session: Session) -> Documents:
    return Documents(session, NAME)


def _store(docs: Documents, dimension: Dimension, row: DimensionRow, now: str) -> dict[str, Any]:
    return docs.put(dimension.value, row.key, {"key": row.key, **row.attributes, "updated_at": now})


EVENTS = "event"
EVENTS_PATH = f"/{NAME}/events"


@router.post("/events")
async def receive_event(request: Request, session: DbSession) -> dict[str, Any]:
    """A CloudEvent from the platform's event relay (see the module docstring)."""
    body = await request.body()
    refused = verify(request.app.state.config.webhook_secret, body, request.headers.get(SIGNATURE_HEADER))
    if refused is not None:
        raise SandboxError(401, "bad_signature", refused)
    try:
        event = json.loads(body)
        event_id = str(event["id"])
    except (ValueError, KeyError, TypeError):
        raise SandboxError(422, "not_a_cloudevent", "the body is not a structured JSON CloudEvent with an id") from None
    docs = _documents(session)
    if docs.get(EVENTS, event_id) is not None:
        return {"received": True, "duplicate": True}
    docs.put(EVENTS, event_id, {**event, "received_at": utc_now()})
    return {"received": True, "duplicate": False}


@router.get("/events")
def list_events(session: DbSession, paging: Paging) -> dict[str, Any]:
    return paging.page_of(_documents(session), EVENTS)


@router.get("/{dimension}")
def list_rows(session: DbSession, paging: Paging, dimension: Dimension) -> dict[str, Any]:
    return paging.page_of(_documents(session), dimension.value)


@router.get("/{dimension}/{key}")
def get_row(session: DbSession, dimension: Dimension, key: str) -> dict[str, Any]:
    return _documents(session).require(dimension.value, key, label=f"{dimension.value} row")


@router.put("/{dimension}/{key}")
def put_row(session: DbSession, dimension: Dimension, key: str, attributes: dict[str, Any]) -> dict[str, Any]:
    row = DimensionRow(key=key, attributes=attributes)
    return _store(_documents(session), dimension, row, utc_now())


@router.delete("/{dimension}/{key}", status_code=204)
def delete_row(session: DbSession, dimension: Dimension, key: str) -> None:
    docs = _documents(session)
    docs.require(dimension.value, key, label=f"{dimension.value} row")
    docs.delete(dimension.value, key)


@router.post("/{dimension}/batch")
def put_rows(session: DbSession, dimension: Dimension, batch: DimensionBatch) -> dict[str, Any]:
    docs, now = _documents(session), utc_now()
    for row in batch.rows:
        _store(docs, dimension, row, now)
    return {"written": len(batch.rows)}


def _seed(session: Session, seed_dir: Path) -> None:
    docs, now = _documents(session), utc_now()
    for supplier in load_json(seed_dir, "erp-suppliers.json"):
        attributes = {
            "legal_name": supplier["legal_name"],
            "dba_name": supplier.get("dba_name"),
            "status": "inactive" if supplier.get("status") == "inactive" else "active",
            "diversity": supplier.get("diversity") or [],
            "address": supplier.get("remit_to"),
            "erp_supplier_id": supplier["erp_supplier_id"],
            "unspsc_categories": supplier.get("categories") or [],
        }
        key = vendor_management_id(supplier["erp_supplier_id"])  # keyed by the system of record's id
        _store(docs, Dimension.SUPPLIERS, DimensionRow(key=key, attributes=attributes), now)
    for contract in load_json(seed_dir, "contracts.json"):
        attributes = {"supplier_id": contract.get("supplier_id"), "status": contract.get("status"),
                      "valid_from": contract.get("effective_from"), "valid_to": contract.get("effective_to"),
                      "gpo": contract.get("gpo")}  # fmt: skip
        _store(docs, Dimension.CONTRACTS, DimensionRow(key=contract["contract_id"], attributes=attributes), now)
    for item in load_json(seed_dir, "items.json"):
        attributes = {"description": item["description"], "gtin": item.get("gtin"), "base_unit": item.get("base_uom"),
                      "unspsc": item.get("unspsc")}  # fmt: skip
        _store(docs, Dimension.ITEMS, DimensionRow(key=item["item_id"], attributes=attributes), now)


SYSTEM = SandboxSystem(name=NAME, router=router, seed=_seed)
