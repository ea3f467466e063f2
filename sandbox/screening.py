"""Screening (`/screening`): the OIG LEIE exclusion list and an IRS-style TIN match.

Exclusions are the rows of the LEIE excerpt (lower-cased column names, every value a string);
`POST /screening/admin/exclusions` adds a row at run time, e.g. to exclude a supplier mid-demo,
and `PUT /screening/exclusions` (a `text/csv` body in the LEIE layout, as OIG publishes
UPDATED.csv) replaces the list with a newer file: each row that names nobody is refused with its
line number and reason, and every other row is loaded.

TIN matching answers the IRS TIN Matching program's codes:
0 TIN and name match; 1 TIN missing or not 9 digits; 2 TIN not currently issued;
3 TIN/name combination does not match; 4 invalid request; 5 duplicate request;
6 matched on SSN (type unknown); 7 matched on EIN (type unknown); 8 matched on both.

The registry is seeded with the ERP seed suppliers' EINs. Names are compared by IRS name
control (`domain.names.name_control`). A TIN the registry does not know is treated as issued
to the name given (code 0): the sandbox cannot know every TIN in the country, and onboarding a
brand-new supplier must be possible. Register a TIN as `not_issued`, or under another name,
with `POST /screening/admin/tin-registry` to make it fail. Code 5 is never answered. Code 4 is
answered when the name is blank.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlalchemy.orm import Session

from domain.exclusions import ExclusionRecord
from domain.names import name_control
from sandbox.db import DbSession, Documents
from sandbox.errors import SandboxError
from sandbox.paging import Paging
from sandbox.seed import load_csv, load_json
from sandbox.system import SandboxSystem

NAME = "screening"
EXCLUSION = "exclusion"
TIN = "tin"
LEIE_COLUMNS = (
    "lastname", "firstname", "midname", "busname", "general", "specialty", "upin", "npi", "dob",
    "address", "city", "state", "zip", "excltype", "excldate", "reindate", "waiverdate", "wvrstate",
)  # fmt: skip
TIN_CODES = {
    0: "TIN and name combination matches IRS records",
    1: "TIN was missing or TIN not 9-digit numeric",
    2: "TIN entered is not currently issued",
    3: "TIN and name combination does not match IRS records",
    4: "Invalid TIN matching request",
    5: "Duplicate TIN matching request",
    6: "TIN and name combination matches IRS SSN records",
    7: "TIN and name combination matches IRS EIN records",
    8: "TIN and name combination matches IRS SSN and EIN records",
}

router = APIRouter(prefix=f"/{NAME}", tags=[NAME])


class ExclusionRow(ExclusionRecord):
    """A row added at run time: the published LEIE columns (domain.exclusions), naming someone."""

    @model_validator(mode="after")
    def _names_someone(self) -> ExclusionRow:
        if not (self.busname.strip() or self.lastname.strip()):
            raise ValueError("busname or lastname is required")
        return self


class TinMatchRequest(BaseModel):
    tin: str = Field(max_length=20)
    tin_type: Literal["EIN", "SSN", "unknown"] = "unknown"
    name: str = Field(default="", max_length=240)


class TinRegistration(BaseModel):
    tin: str = Field(max_length=20)
    name: str | None = Field(default=None, max_length=240)
    kind: Literal["EIN", "SSN"] = "EIN"
    not_issued: bool = False

    @model_validator(mode="after")
    def _name_unless_not_issued(self) -> TinRegistration:
        if not self.not_issued and not (self.name or "").strip():
            raise ValueError("name is required unless not_issued is true")
        return self


def _documents(session: Session) -> Documents:
    return Documents(session, NAME)


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


@router.get("/exclusions")
def list_exclusions(session: DbSession, paging: Paging) -> dict[str, Any]:
    return paging.page(_documents(session).all(EXCLUSION))


@router.post("/admin/exclusions", status_code=201)
def add_exclusion(session: DbSession, row: ExclusionRow) -> dict[str, Any]:
    docs = _documents(session)
    return docs.put(EXCLUSION, docs.next_id("LEIE-", 6), row.model_dump())


@router.put("/exclusions")
async def replace_exclusions(session: DbSession, request: Request) -> dict[str, Any]:
    """Replace the exclusion list with a newer LEIE file (CSV, header row first)."""
    try:
        text = (await request.body()).decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SandboxError(400, "bad_file", f"body: not UTF-8 text ({error.reason} at byte {error.start})") from error
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in LEIE_COLUMNS if column not in header]
    if missing:
        raise SandboxError(400, "bad_file", f"header: LEIE columns missing: {', '.join(missing)}")
    loaded: list[dict[str, str]] = []
    refused: list[dict[str, Any]] = []
    for row in reader:
        values = {key.strip().lower(): (value or "").strip() for key, value in row.items() if key}
        try:
            loaded.append(ExclusionRow.model_validate(values).model_dump(include=set(LEIE_COLUMNS)))
        except ValidationError as error:
            refused.append({"line": reader.line_num, "reason": "; ".join(e["msg"] for e in error.errors())})
    docs = _documents(session)
    docs.delete_kind(EXCLUSION)
    for number, row in enumerate(loaded, start=1):
        docs.put(EXCLUSION, f"LEIE-{number:06d}", row)
    docs.advance_counter("LEIE-", len(loaded))
    return {"loaded": len(loaded), "refused": refused}


@router.post("/tin-match")
def match_tin(session: DbSession, request: TinMatchRequest) -> dict[str, Any]:
    code = _tin_match_code(_documents(session), request)
    return {"code": code, "description": TIN_CODES[code]}


def _tin_match_code(docs: Documents, request: TinMatchRequest) -> int:
    tin = request.tin.replace("-", "").strip()
    if len(tin) != 9 or not tin.isdigit():
        return 1
    if not request.name.strip():
        return 4
    registered = docs.get(TIN, tin)
    if registered is None:
        return 0
    if registered.get("not_issued"):
        return 2
    if name_control(registered["name"]) != name_control(request.name):
        return 3
    if request.tin_type == "unknown":
        return 6 if registered.get("kind") == "SSN" else 7
    return 0


@router.post("/admin/tin-registry")
def register_tin(session: DbSession, registration: TinRegistration) -> dict[str, Any]:
    tin = _digits(registration.tin)
    if len(tin) != 9:
        raise SandboxError(422, "validation_error", "body.tin: must have 9 digits")
    _documents(session).put(TIN, tin, {**registration.model_dump(), "tin": tin})
    # The answer does not echo the TIN.
    return {"registered": True, "tin_last4": tin[-4:], "not_issued": registration.not_issued}


def _seed(session: Session, seed_dir: Path) -> None:
    docs = _documents(session)
    rows = load_csv(seed_dir, "leie-excerpt.csv")
    for number, row in enumerate(rows, start=1):
        docs.put(EXCLUSION, f"LEIE-{number:06d}", {column: row.get(column, "") for column in LEIE_COLUMNS})
    docs.advance_counter("LEIE-", len(rows))
    for supplier in load_json(seed_dir, "erp-suppliers.json"):
        tax_id = supplier.get("tax_id") or {}
        tin = _digits(str(tax_id.get("value", "")))
        if len(tin) == 9:
            kind = tax_id.get("kind", "EIN")
            docs.put(TIN, tin, {"tin": tin, "name": supplier["legal_name"], "kind": kind, "not_issued": False})


SYSTEM = SandboxSystem(name=NAME, router=router, seed=_seed)
