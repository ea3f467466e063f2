"""The ERP item master (`/erp/items`): the items the hospital buys, with GTIN, base unit and
UNSPSC code. It is the authoritative item master (survivorship); a steward edits an item with
PATCH. Seeded from items.json, the same items the contract system prices."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from sandbox.db import DbSession, Documents, utc_now
from sandbox.paging import Paging
from sandbox.seed import load_json

SYSTEM_NAME = "erp"
ITEM = "item"
FIELDS = ("item_id", "description", "gtin", "base_uom", "unspsc", "manufacturer", "mfr_part")

router = APIRouter()


class ItemMasterEdit(BaseModel):
    """A steward's edit of an item (the ERP item master, and the contract system's item list)."""

    description: str | None = Field(default=None, min_length=1, max_length=240)
    gtin: str | None = Field(default=None, pattern=r"^\d{8,14}$")
    base_uom: str | None = Field(default=None, min_length=1, max_length=10)
    unspsc: str | None = Field(default=None, pattern=r"^\d{8}$")


def _documents(session: Session) -> Documents:
    return Documents(session, SYSTEM_NAME)


@router.get("/items")
def list_items(session: DbSession, paging: Paging) -> dict[str, Any]:
    return paging.page_of(_documents(session), ITEM)


@router.get("/items/{item_id}")
def get_item(session: DbSession, item_id: str) -> dict[str, Any]:
    return _documents(session).require(ITEM, item_id, label="item")


@router.patch("/items/{item_id}")
def edit_item(session: DbSession, item_id: str, changes: ItemMasterEdit) -> dict[str, Any]:
    return _documents(session).update(ITEM, item_id, changes.model_dump(exclude_none=True), label="item")


def seed_items(session: Session, seed_dir: Path) -> None:
    docs = _documents(session)
    now = utc_now()
    for item in load_json(seed_dir, "items.json"):
        docs.put(ITEM, item["item_id"], {**{k: item.get(k) for k in FIELDS}, "updated_at": now})
