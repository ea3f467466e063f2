"""Files in (X12 EDI and legacy CSV), one pipeline: trading partners, what a file's intake
reports, and the dead letters of records that could not become a workflow call.

A trading partner maps an interchange sender (ISA qualifier and id, GS id) to an ERP supplier,
with the transaction sets it exchanges, its X12 version, whether it wants a 997 or a 999, and how
our outbound documents reach it. A file is taken once: the same bytes again (content hash) or the
same interchange control number from the same partner is a duplicate, not processed twice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import Field, StrictBool

from domain.base import DomainModel
from domain.purchasing import SystemId

PartnerId = SystemId
TransactionSetCode = Literal["810", "832", "850", "855", "856", "997", "999"]


def _usual_sets() -> list[TransactionSetCode]:
    return ["810", "850", "855", "856", "997"]


def intake_workflow_id(sha256: str) -> str:
    return f"intake-{sha256[:24]}"


def replay_workflow_id(dead_letter_id: int) -> str:
    return f"intake-replay-{dead_letter_id}"


class Partner(DomainModel):
    partner_id: PartnerId = Field(description="our name for the partner, e.g. CASCADIAPHARM")
    name: str = Field(min_length=1, max_length=200)
    supplier_id: SystemId = Field(description="the ERP supplier it is")
    isa_qualifier: str = Field(default="ZZ", min_length=2, max_length=2, pattern=r"^[0-9A-Z]{2}$")
    isa_id: str = Field(min_length=1, max_length=15, pattern=r"^[^*~>^|:\s][^*~>^|:]*$",
                        description="ISA06 as the partner sends it (ours is ISA08 of its files)")  # fmt: skip
    gs_id: str = Field(min_length=1, max_length=15, pattern=r"^[\x21-\x7e]+$",
                       description="GS02 as the partner sends it")  # fmt: skip
    transaction_sets: list[TransactionSetCode] = Field(default_factory=_usual_sets)
    x12_version: str = Field(default="004010", pattern=r"^[0-9]{6}$", description="GS08 of what we send")
    functional_ack: Literal["997", "999"] = "997"
    outbound: Literal["vendor_channel_edi", "none"] = Field(
        default="vendor_channel_edi", description="how our 850s and 997s reach it"
    )
    edi_only: StrictBool = Field(default=True, description="POs to its supplier go as X12 850, not JSON notifications")


class EdiIdentity(DomainModel):
    """Who we are in the envelopes we send (and the receiver of what partners send us)."""

    isa_qualifier: str = "ZZ"
    isa_id: str = "MERCYHEALTH"
    gs_id: str = "MERCYHEALTH"


class FileKind(StrEnum):
    X12 = "x12"
    CSV = "csv"
    UNKNOWN = "unknown"


class IntakeSource(StrEnum):
    CLI = "cli"
    API = "api"
    INBOX = "inbox"
    VENDOR_CHANNEL = "vendor_channel"


class RecordOutcome(StrEnum):
    STARTED = "started"  # a workflow started (or signalled) for the record
    DUPLICATE = "duplicate"  # the record was taken before (same invoice, same acknowledgement)
    DEAD_LETTER = "dead_letter"
    ACKNOWLEDGED = "acknowledged"  # a 997/999 we received, reconciled with what we sent


class IntakeRecord(DomainModel):
    """What became of one record (a transaction set, a CSV row)."""

    position: str = Field(description="where in the file: `ISA 000004103 / GS 4103 / ST 0001 (segment 3)`, `line 5`")
    kind: str = Field(description="x12:810, x12:855, csv:vendor_request, ...")
    key: str | None = Field(default=None, description="the business key: PO number, invoice number, vendor id")
    outcome: RecordOutcome
    workflow_id: str | None = None
    dead_letter_id: int | None = None
    reason: str | None = None


class IntakeFileInput(DomainModel):
    file_id: str = Field(description="the content's sha256")
    name: str
    source: IntakeSource
    submitted_by: str = "intake"


class IntakeResult(DomainModel):
    file_id: str
    name: str
    kind: FileKind
    refused: str | None = Field(default=None, description="why the file was refused as a whole (TA1, not X12/CSV)")
    duplicate_of: str | None = Field(default=None, description="the intake that took these bytes or interchange")
    records: list[IntakeRecord] = Field(default_factory=list)
    acknowledgements: list[str] = Field(default_factory=list, description="997/999/TA1 control numbers sent")

    @property
    def dead_letters(self) -> int:
        return sum(1 for r in self.records if r.outcome is RecordOutcome.DEAD_LETTER)


class DeadLetterStatus(StrEnum):
    OPEN = "open"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


class IntakeDeadLetter(DomainModel):
    """A record that could not become a workflow call, with what is needed to run it again: its
    original bytes (a transaction set with its envelope headers, a CSV row with its header), the
    partner, the reason and where it was in the file."""

    id: int | None = None
    file_id: str
    file_name: str
    kind: str
    position: str
    partner_id: str | None = None
    key: str | None = None
    reason: str
    raw: str = Field(description="the record's original text (enough to run it through the pipeline again)")
    status: DeadLetterStatus = DeadLetterStatus.OPEN
    created_at: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = Field(default=None, description="replayed: what became of it; discarded: why")
    details: dict[str, Any] = Field(default_factory=dict)


class ReplayInput(DomainModel):
    dead_letter_id: int
    replayed_by: str


class ReplayResult(DomainModel):
    dead_letter_id: int
    record: IntakeRecord
    replayed: bool = Field(description="False: it failed again (a new dead letter holds the new reason)")


class InboxInput(DomainModel):
    inbox_dir: str = Field(description="the watched folder; archive/ and rejected/ are made beside its files")
    ack_sla_minutes: int = Field(default=60, ge=1, description="how long an 850 we sent may wait for its 997")


class InboxFile(DomainModel):
    name: str
    moved_to: str
    result: IntakeResult | None = None
    error: str | None = None


class InboxResult(DomainModel):
    files: list[InboxFile] = Field(default_factory=list)
    overdue_acknowledgements: list[str] = Field(default_factory=list, description="tasks opened for purchasing")


class EdiMessage(DomainModel):
    """An X12 interchange we sent (`out`: 850, 997, 999, TA1) or received (`in`), as kept."""

    id: int
    direction: Literal["in", "out"]
    partner_id: str | None = None
    kind: str = Field(description="850, 997, 999, TA1, ...")
    control_number: str
    text: str
    related: str | None = Field(default=None, description="what it answers or belongs to, e.g. the 850's number")
    created_at: datetime
