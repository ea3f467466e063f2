"""`IntakeRecords` (`store.intake`): the store side of file intake, `adapters.intake_store.
IntakeStorePort` over SQLAlchemy, on SQLite and PostgreSQL alike.

Every write that a retried activity may repeat is one `INSERT ... ON CONFLICT` against a unique
key, so two retries racing each other cannot both write: a file under its content hash, an
interchange per partner and control number, a dead letter per file, position and kind, an EDI
message per direction, kind, control number and text. The outbound control number is one atomic
`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`: two senders never get the same number.

Decisions:
- A dead letter's `file_name`, `position` and `key` are cut to their columns' widths rather than
  refused: a record is never dropped for a long name, and cutting is deterministic, so the
  record's key stays the same on a retry.
- Dead letters are listed oldest first (by id): a queue worked from its oldest, and paging that
  stays stable while new letters arrive.
- `partner_for_supplier` answers the first partner (by id) mapped to the supplier when several are.
- The trading partner CASCADIAPHARM is seeded by migration 0005 (see its docstring);
  `SEED_PARTNERS` is the same partner as a model, for the fake and the tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import Select, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.base import DomainModel
from domain.intake import DeadLetterStatus, EdiMessage, IntakeDeadLetter, IntakeResult, IntakeSource, Partner
from store.models import (
    EdiMessageRow,
    IntakeControlNumberRow,
    IntakeDeadLetterRow,
    IntakeFileRow,
    IntakeInterchangeRow,
    TradingPartnerRow,
    utcnow,
)

QueryT = TypeVar("QueryT", bound=Select[Any])
SEED_PARTNERS: tuple[Partner, ...] = (
    Partner(
        partner_id="CASCADIAPHARM",
        name="Cascadia Pharma Distribution Corp",
        supplier_id="SUP-0003",
        isa_qualifier="ZZ",
        isa_id="CASCADIAPHARM",
        gs_id="CASCADIAPHARM",
        transaction_sets=["810", "850", "855", "856", "997"],
        x12_version="004010",
        functional_ack="997",
        outbound="vendor_channel_edi",
        edi_only=True,
    ),
)
FileStatus = Literal["received", "processed", "refused", "duplicate"]
EDI_DIRECTIONS = ("in", "out")
RESOLUTIONS = (DeadLetterStatus.REPLAYED, DeadLetterStatus.DISCARDED)


class IntakeFile(DomainModel):
    """A file taken in, without its bytes: where it came from and, once processed, its result."""

    file_id: str
    name: str
    source: IntakeSource
    size: int
    received_at: datetime
    status: FileStatus
    finished_at: datetime | None = None
    result: IntakeResult | None = None


def file_status(result: IntakeResult) -> FileStatus:
    if result.refused:
        return "refused"
    return "duplicate" if result.duplicate_of else "processed"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class IntakeRecords:
    """Implements `IntakeStorePort`; `insert` is the dialect's INSERT (with ON CONFLICT)."""

    def __init__(self, sessions: sessionmaker[Session], insert: Callable[[Any], Any]) -> None:
        self._sessions = sessions
        self._insert = insert

    # --- files ----------------------------------------------------------------------------------
    def save_file(self, file_id: str, name: str, source: IntakeSource, data: bytes) -> bool:
        """Keep the bytes under their sha256; False when these bytes were taken before."""
        if sha256_hex(data) != file_id:
            raise ValueError(f"file_id: {file_id!r} is not the sha256 of the file's bytes")
        statement = self._insert(IntakeFileRow).values(
            id=file_id, name=name[:255], source=IntakeSource(source).value, size=len(data),
            received_at=utcnow(), content=data, status="received",
        ).on_conflict_do_nothing(index_elements=["id"]).returning(IntakeFileRow.id)  # fmt: skip
        with self._sessions.begin() as session:  # RETURNING: a row only when it was inserted
            return session.execute(statement).scalar() is not None

    def file_bytes(self, file_id: str) -> bytes:
        with self._sessions() as session:
            content = session.scalar(select(IntakeFileRow.content).where(IntakeFileRow.id == file_id))
        if content is None:
            raise LookupError(f"file_id: no intake file {file_id!r} in the store")
        return bytes(content)

    def finish_file(self, result: IntakeResult) -> None:
        statement = (
            update(IntakeFileRow)
            .where(IntakeFileRow.id == result.file_id)
            .values(status=file_status(result), result=result.model_dump(mode="json"), finished_at=utcnow())
        )
        with self._sessions.begin() as session:
            if not session.execute(statement).rowcount:  # type: ignore[attr-defined]
                raise LookupError(f"file_id: no intake file {result.file_id!r} in the store")

    def file_result(self, file_id: str) -> IntakeResult | None:
        found = self.get_file(file_id)
        return found.result if found is not None else None

    def get_file(self, file_id: str) -> IntakeFile | None:
        with self._sessions() as session:
            row = session.get(IntakeFileRow, file_id)
            return _file(row) if row is not None else None

    def claim_interchange(self, partner_id: str, control_number: str, file_id: str) -> str | None:
        """None when the control number is new to the partner (or this file took it before: a
        retried activity), else the file that took it first."""
        statement = self._insert(IntakeInterchangeRow).values(
            partner_id=partner_id, control_number=control_number, file_id=file_id, claimed_at=utcnow()
        ).on_conflict_do_nothing(index_elements=["partner_id", "control_number"])  # fmt: skip
        held_by = select(IntakeInterchangeRow.file_id).where(
            IntakeInterchangeRow.partner_id == partner_id, IntakeInterchangeRow.control_number == control_number
        )
        with self._sessions.begin() as session:
            session.execute(statement)
            first = session.scalar(held_by)
        return None if first == file_id else first

    # --- partners -------------------------------------------------------------------------------
    def list_partners(self) -> list[Partner]:
        with self._sessions() as session:
            return [_partner(row) for row in session.scalars(select(TradingPartnerRow).order_by("partner_id"))]

    def get_partner(self, partner_id: str) -> Partner | None:
        with self._sessions() as session:
            row = session.get(TradingPartnerRow, partner_id)
            return _partner(row) if row is not None else None

    def partner_by_sender(self, isa_qualifier: str, isa_id: str) -> Partner | None:
        query = select(TradingPartnerRow).where(
            TradingPartnerRow.isa_qualifier == isa_qualifier.strip(), TradingPartnerRow.isa_id == isa_id.strip()
        )
        with self._sessions() as session:
            row = session.scalars(query).first()
            return _partner(row) if row is not None else None

    def partner_for_supplier(self, supplier_id: str) -> Partner | None:
        query = select(TradingPartnerRow).where(TradingPartnerRow.supplier_id == supplier_id).order_by("partner_id")
        with self._sessions() as session:
            row = session.scalars(query.limit(1)).first()
            return _partner(row) if row is not None else None

    def put_partner(self, partner: Partner) -> Partner:
        """Add or replace by partner id; ValueError naming `isa_id` when another partner already
        sends as this ISA qualifier and id. The id is kept stripped of ISA06's padding."""
        partner = partner.model_copy(update={"isa_id": partner.isa_id.strip()})
        columns = {
            "partner_id": partner.partner_id, "name": partner.name, "supplier_id": partner.supplier_id,
            "isa_qualifier": partner.isa_qualifier, "isa_id": partner.isa_id, "gs_id": partner.gs_id,
            "partner": partner.model_dump(mode="json"), "updated_at": utcnow(),
        }  # fmt: skip
        insert = self._insert(TradingPartnerRow).values(**columns)
        upsert = insert.on_conflict_do_update(
            index_elements=["partner_id"], set_={k: getattr(insert.excluded, k) for k in columns if k != "partner_id"}
        )
        other = select(TradingPartnerRow.partner_id).where(
            TradingPartnerRow.isa_qualifier == partner.isa_qualifier,
            TradingPartnerRow.isa_id == partner.isa_id,
            TradingPartnerRow.partner_id != partner.partner_id,
        )
        try:
            with self._sessions.begin() as session:
                holder = session.scalar(other)
                if holder is None:
                    session.execute(upsert)
        except IntegrityError:  # another writer took the sender between the check and the write
            holder = self._sender_holder(partner)
        if holder is not None:
            raise ValueError(f"isa_id: {partner.isa_qualifier}/{partner.isa_id} is the sender of partner {holder}")
        return partner

    def _sender_holder(self, partner: Partner) -> str:
        found = self.partner_by_sender(partner.isa_qualifier, partner.isa_id)
        return found.partner_id if found is not None else "(another partner)"

    # --- dead letters ---------------------------------------------------------------------------
    def add_dead_letter(self, letter: IntakeDeadLetter) -> IntakeDeadLetter:
        """Keep it, once per file, position and kind (a retry returns the one kept first)."""
        position, kind = letter.position[:500], letter.kind[:64]
        statement = self._insert(IntakeDeadLetterRow).values(
            file_id=letter.file_id, file_name=letter.file_name[:255], kind=kind, position=position,
            partner_id=letter.partner_id, record_key=letter.key[:255] if letter.key else None,
            reason=letter.reason, raw=letter.raw, status=letter.status.value,
            created_at=letter.created_at or utcnow(), resolved_at=letter.resolved_at,
            resolved_by=letter.resolved_by, resolution=letter.resolution, details=letter.details,
        ).on_conflict_do_nothing(index_elements=["file_id", "position", "kind"])  # fmt: skip
        kept = select(IntakeDeadLetterRow).where(
            IntakeDeadLetterRow.file_id == letter.file_id,
            IntakeDeadLetterRow.position == position,
            IntakeDeadLetterRow.kind == kind,
        )
        with self._sessions.begin() as session:
            session.execute(statement)
            return _dead_letter(session.scalars(kept).one())

    def get_dead_letter(self, letter_id: int) -> IntakeDeadLetter | None:
        with self._sessions() as session:
            row = session.get(IntakeDeadLetterRow, letter_id)
            return _dead_letter(row) if row is not None else None

    def list_dead_letters(
        self, status: DeadLetterStatus | None = None, limit: int = 100, offset: int = 0
    ) -> list[IntakeDeadLetter]:
        """Oldest first (see the module docstring)."""
        query = select(IntakeDeadLetterRow).order_by(IntakeDeadLetterRow.id)
        if status is not None:
            query = query.where(IntakeDeadLetterRow.status == DeadLetterStatus(status).value)
        with self._sessions() as session:
            return [_dead_letter(row) for row in session.scalars(_page(query, limit, offset))]

    def resolve_dead_letter(
        self, letter_id: int, status: DeadLetterStatus, resolved_by: str, resolution: str
    ) -> IntakeDeadLetter:
        """Mark an open letter replayed or discarded, atomically (two people resolving the same
        letter: one wins, the other gets ValueError); LookupError when there is no such letter."""
        if status not in RESOLUTIONS:
            raise ValueError(f"status: a dead letter is resolved as replayed or discarded, not {status}")
        statement = (
            update(IntakeDeadLetterRow)
            .where(IntakeDeadLetterRow.id == letter_id, IntakeDeadLetterRow.status == DeadLetterStatus.OPEN.value)
            .values(status=status.value, resolved_by=resolved_by, resolution=resolution, resolved_at=utcnow())
        )
        with self._sessions.begin() as session:
            changed = session.execute(statement).rowcount  # type: ignore[attr-defined]
            row = session.get(IntakeDeadLetterRow, letter_id)
            if row is None:
                raise LookupError(f"dead letter {letter_id}: no such dead letter")
            if not changed:
                raise ValueError(
                    f"status: dead letter {letter_id} is already {row.status} (by {row.resolved_by}); "
                    "only an open one can be replayed or discarded"
                )
            return _dead_letter(row)

    # --- EDI messages ---------------------------------------------------------------------------
    def record_edi_message(
        self, direction: str, partner_id: str | None, kind: str, control_number: str, text: str,
        related: str | None = None,
    ) -> int:  # fmt: skip
        """Keep a message sent (`out`) or received (`in`) and return its id; the same message
        recorded again returns the first one's id."""
        if direction not in EDI_DIRECTIONS:
            raise ValueError(f"direction: must be `in` or `out`, not {direction!r}")
        digest = sha256_hex(text.encode())
        statement = self._insert(EdiMessageRow).values(
            direction=direction, partner_id=partner_id, kind=kind, control_number=control_number, text=text,
            text_sha256=digest, related=related, created_at=utcnow(),
        ).on_conflict_do_nothing(index_elements=["direction", "kind", "control_number", "text_sha256"])  # fmt: skip
        kept = select(EdiMessageRow.id).where(
            EdiMessageRow.direction == direction,
            EdiMessageRow.kind == kind,
            EdiMessageRow.control_number == control_number,
            EdiMessageRow.text_sha256 == digest,
        )
        with self._sessions.begin() as session:
            session.execute(statement)
            return int(session.scalars(kept).one())

    def edi_messages(
        self, *, direction: str | None = None, partner_id: str | None = None, kind: str | None = None,
        control_number: str | None = None, related: str | None = None, limit: int = 100, offset: int = 0,
    ) -> list[EdiMessage]:  # fmt: skip
        """The messages kept, oldest first, filtered by whichever of the arguments are given."""
        query = select(EdiMessageRow).order_by(EdiMessageRow.id)
        filters = {"direction": direction, "partner_id": partner_id, "kind": kind, "control_number": control_number,
                   "related": related}  # fmt: skip
        for name, value in filters.items():
            if value is not None:
                query = query.where(getattr(EdiMessageRow, name) == value)
        with self._sessions() as session:
            return [
                EdiMessage.model_validate(row, from_attributes=True)
                for row in session.scalars(_page(query, limit, offset))
            ]

    def next_control_number(self, partner_id: str) -> int:
        """1 for a partner's first interchange, then one more each time, never the same twice."""
        insert = self._insert(IntakeControlNumberRow).values(partner_id=partner_id, last_number=1)
        statement = insert.on_conflict_do_update(
            index_elements=["partner_id"], set_={"last_number": IntakeControlNumberRow.last_number + 1}
        ).returning(IntakeControlNumberRow.last_number)
        with self._sessions.begin() as session:
            return int(session.execute(statement).scalar_one())


def _file(row: IntakeFileRow) -> IntakeFile:
    return IntakeFile(
        file_id=row.id, name=row.name, source=IntakeSource(row.source), size=row.size, received_at=row.received_at,
        status=cast(FileStatus, row.status), finished_at=row.finished_at,
        result=IntakeResult.model_validate(row.result) if row.result is not None else None,
    )  # fmt: skip


def _partner(row: TradingPartnerRow) -> Partner:
    return Partner.model_validate(row.partner)


def _dead_letter(row: IntakeDeadLetterRow) -> IntakeDeadLetter:
    return IntakeDeadLetter(
        id=row.id, file_id=row.file_id, file_name=row.file_name, kind=row.kind, position=row.position,
        partner_id=row.partner_id, key=row.record_key, reason=row.reason, raw=row.raw,
        status=DeadLetterStatus(row.status), created_at=row.created_at, resolved_at=row.resolved_at,
        resolved_by=row.resolved_by, resolution=row.resolution, details=row.details or {},
    )  # fmt: skip


def _page(query: QueryT, limit: int, offset: int) -> QueryT:
    if limit < 1:
        raise ValueError(f"limit: must be at least 1, got {limit}")
    if offset < 0:
        raise ValueError(f"offset: must not be negative, got {offset}")
    return query.limit(limit).offset(offset)
