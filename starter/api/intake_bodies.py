"""The request and response bodies and parameters of the intake routes (starter/api/intake.py),
each described in the OpenAPI document as it is checked: a file is its raw bytes (any media type)
named by `X-File-Name` (a name, never a path); ids have the patterns of the store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header
from fastapi import Path as PathParam
from pydantic import BaseModel, Field, StrictBool

from domain.intake import IntakeDeadLetter, IntakeRecord, Partner
from domain.purchasing import BUSINESS_ID_PATTERN, BUSINESS_ID_RULE

MAX_ID = 2**63 - 1  # the store's 64-bit ids
PartnerIdPath = Annotated[str, PathParam(pattern=BUSINESS_ID_PATTERN, max_length=40, description=BUSINESS_ID_RULE)]
LetterIdPath = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the dead letter's id")]
FileIdPath = Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$", description="the file's sha256 (hex)")]
FileName = Annotated[
    str,
    Header(
        alias="X-File-Name",
        min_length=1,
        max_length=255,
        pattern=r"^[^/\\\s](?:[^/\\]*[^/\\\s])?$",
        description="the file's name, e.g. 810-cascadia-invoice.edi (a name, not a path)",
    ),
]
FILE_MEDIA_TYPES = ("application/octet-stream", "application/edi-x12", "text/csv", "text/plain")
FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the file as it is: an X12 interchange or a CSV export",
        "content": {media: {"schema": {"type": "string", "format": "binary", "minLength": 1}}
                    for media in FILE_MEDIA_TYPES},
    }
}  # fmt: skip


class IntakePending(BaseModel):
    file_id: str
    name: str | None = None
    workflow_id: str = Field(description="the file's intake run")
    status: str = Field(default="processing", description="read the result from `location` once processed")
    location: str


class ReplayAnswer(BaseModel):
    """A replay: the dead letter as it is now, and once the replay ran, what became of the record
    (`replayed` false: it failed again, and `record` names the dead letter holding the new reason)."""

    dead_letter: IntakeDeadLetter
    workflow_id: str = Field(description="the replay's run, intake-replay-<id>")
    status: str = Field(description="done, or running (read the dead letter later)")
    replayed: bool | None = None
    record: IntakeRecord | None = None


class PartnerBody(Partner):
    """A trading partner as `PUT /v1/partners/{id}` takes it: the domain's Partner, with `edi_only`
    a JSON boolean only (0 or "yes" are refused, as the schema says, not read as booleans)."""

    edi_only: StrictBool = Field(default=True, description="POs to its supplier go as X12 850, not JSON notifications")


class PartnerList(BaseModel):
    items: list[Partner]


class DeadLetterPage(BaseModel):
    items: list[IntakeDeadLetter]
    limit: int
    offset: int


class DiscardBody(BaseModel):
    """Why the record is discarded; who discarded it is the caller."""

    reason: str = Field(min_length=3, max_length=500)
