"""Tables of the platform's own store: cross-references, business events, dead letters, the audit
trail, idempotency records, master-data syncs, file intake, event subscriptions and their outbox.

The column types are chosen to behave the same on SQLite (the embedded default) and
PostgreSQL (production): timestamps always come back timezone-aware in UTC, and JSON is
JSONB on PostgreSQL so it can be indexed and queried later.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import UniqueConstraint
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so migrations can refer to them on every dialect.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """`DateTime(timezone=True)` that stores UTC and always returns an aware UTC datetime.

    SQLite has no time zone type: SQLAlchemy would store the wall-clock fields and drop the
    offset, so two instants with different offsets would compare wrongly. Converting to UTC
    before binding keeps ordering correct on SQLite and results identical on PostgreSQL.
    A naive value is taken to be UTC (Temporal's `workflow.now()` is UTC), never local time.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Identifier = BigInteger().with_variant(Integer(), "sqlite")
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CrossReferenceRow(Base):
    """One id of an entity in one system mapped to its id in another system."""

    __tablename__ = "cross_references"
    __table_args__ = (
        UniqueConstraint("entity", "source_system", "source_id", "target_system", name="uq_cross_references_source"),
        Index("ix_cross_references_target", "entity", "target_system", "target_id"),
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    entity: Mapped[str] = mapped_column(String(64))
    source_system: Mapped[str] = mapped_column(String(64))
    source_id: Mapped[str] = mapped_column(String(255))
    target_system: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str] = mapped_column(String(255))
    workflow_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())


class BusinessEventRow(Base):
    """A published business event; `event_id` is unique so a retried publish is stored once."""

    __tablename__ = "business_events"
    __table_args__ = (
        Index("ix_business_events_type_occurred_at", "type", "occurred_at"),
        Index("ix_business_events_subject_occurred_at", "subject", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    type: Mapped[str] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(255))
    workflow_id: Mapped[str | None] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())


class DeadLetterRow(Base):
    """A record that could not be processed, kept with its reason instead of being dropped."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_source_created_at", "source", "created_at"),)

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    source: Mapped[str] = mapped_column(String(128))
    record_key: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())


class AuditEntryRow(Base):
    """One audit entry. Append-only: the store never updates or deletes these rows. `prev_hash`
    is unique, so two writers can never both extend the chain from the same entry."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_record", "record_type", "record_id", "seq"),
        Index("ix_audit_entries_actor_at", "actor", "at"),
        Index("ix_audit_entries_at", "at"),
    )

    seq: Mapped[int] = mapped_column(Identifier, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(120))
    record_type: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str | None] = mapped_column(String(120))
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class IdempotencyRow(Base):
    """The first response to an API request carrying an Idempotency-Key, per principal."""

    __tablename__ = "idempotency_records"
    __table_args__ = (Index("ix_idempotency_records_expires_at", "expires_at"),)

    principal: Mapped[str] = mapped_column(String(200), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # in_flight | done
    # Which claim holds the key (a takeover increments it); complete/release must present it.
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # When an in_flight claim may be taken over: the request's own time limit; NULL = expired.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MasterDataSyncRow(Base):
    """One master-data sync run: what it compared and, once done, its summary."""

    __tablename__ = "master_data_syncs"
    __table_args__ = (Index("ix_master_data_syncs_entity_started_at", "entity", "started_at"),)

    sync_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    dry_run: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


class MasterDataDriftRow(Base):
    """One system's field that differed from the golden record in one sync (the drift report),
    with what was done about it. Sensitive values are stored masked."""

    __tablename__ = "master_data_drifts"
    __table_args__ = (Index("ix_master_data_drifts_sync_batch", "sync_id", "batch"),)

    sync_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    batch: Mapped[int] = mapped_column(Integer)
    row: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    outcome: Mapped[str | None] = mapped_column(Text)


# --- File intake (store/intake.py) -------------------------------------------------------------


class IntakeFileRow(Base):
    """A file taken in, under its content's sha256 (the same bytes twice are one row), with what
    became of it once processed (`result`, an IntakeResult as JSON)."""

    __tablename__ = "intake_files"
    __table_args__ = (Index("ix_intake_files_received_at", "received_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    content: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))  # received | processed | refused | duplicate
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


class IntakeInterchangeRow(Base):
    """An interchange control number (ISA13) a partner sent, and the file that took it first."""

    __tablename__ = "intake_interchanges"

    partner_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    control_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    file_id: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TradingPartnerRow(Base):
    """A trading partner: the whole `domain.intake.Partner` as JSON, and the fields it is looked
    up by as columns (its ISA sender is unique; `isa_id` is kept stripped of ISA06's padding)."""

    __tablename__ = "trading_partners"
    __table_args__ = (
        UniqueConstraint("isa_qualifier", "isa_id", name="uq_trading_partners_isa_sender"),
        Index("ix_trading_partners_supplier_id", "supplier_id"),
    )

    partner_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    supplier_id: Mapped[str] = mapped_column(String(40))
    isa_qualifier: Mapped[str] = mapped_column(String(2))
    isa_id: Mapped[str] = mapped_column(String(15))
    gs_id: Mapped[str] = mapped_column(String(15))
    partner: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IntakeDeadLetterRow(Base):
    """A record of a file that could not become a workflow call, with its original text; one per
    file, position and kind (a retried activity adds it once)."""

    __tablename__ = "intake_dead_letters"
    __table_args__ = (
        UniqueConstraint("file_id", "position", "kind", name="uq_intake_dead_letters_record"),
        Index("ix_intake_dead_letters_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    file_id: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    position: Mapped[str] = mapped_column(String(500))
    partner_id: Mapped[str | None] = mapped_column(String(40))
    record_key: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # open | replayed | discarded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)


class EdiMessageRow(Base):
    """An EDI message we sent (`out`: 850, 997, 999, TA1) or received (`in`), kept whole. The same
    message recorded again (same direction, kind, control number and text) is one row."""

    __tablename__ = "edi_messages"
    __table_args__ = (
        UniqueConstraint("direction", "kind", "control_number", "text_sha256", name="uq_edi_messages_message"),
        Index("ix_edi_messages_partner_kind_control", "partner_id", "kind", "control_number"),
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    partner_id: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    control_number: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    related: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IntakeControlNumberRow(Base):
    """The last interchange control number we sent to a partner (the next is one more)."""

    __tablename__ = "intake_control_numbers"

    partner_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger)


class SubscriptionRow(Base):
    """A subscription to business events (domain.subscriptions); removed ones stay, inactive."""

    __tablename__ = "event_subscriptions"

    subscription_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    types: Mapped[list[str]] = mapped_column(JSONDocument)
    url: Mapped[str | None] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(Boolean)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EventDeliveryRow(Base):
    """The outbox: one event for one subscription, written in the event's transaction; the relay
    delivers a subscription's pending rows in `sequence` order (the event row's id)."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_event_deliveries_subscription_event"),
        Index("ix_event_deliveries_status_subscription_sequence", "status", "subscription_id", "sequence"),
    )

    id: Mapped[int] = mapped_column(Identifier, primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(255))
    sequence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(200))
