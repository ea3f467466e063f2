"""`Store`: the platform's own records (cross-references, business events, dead letters).

The API is synchronous on purpose: activities call it through `asyncio.to_thread`, and each
method is one short transaction in its own session, so a method is safe to call from any
thread and a retried activity never sees half of another call's work. Everything returned is
a domain model from `domain.events`, never an ORM object bound to a closed session.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from sqlalchemy import ColumnElement, Select, delete, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from domain.audit import AuditRecord
from domain.events import BusinessEvent, CrossReference, DeadLetter
from store.alerts import AlertRecords
from store.audit import APPEND_ATTEMPTS, AuditTrail
from store.db import make_engine
from store.idempotency import IdempotencyRecords
from store.intake import IntakeRecords
from store.master_data import SyncRecords
from store.migrator import migrate_engine
from store.models import BusinessEventRow, CrossReferenceRow, DeadLetterRow, utcnow
from store.outbox import EventOutbox

_UPSERT_INSERTS: dict[str, Callable[[Any], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}

QueryT = TypeVar("QueryT", bound=Select[Any])


class Store:
    """Opens (and by default migrates) the database at `url`; call `close()` when done."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self._engine = make_engine(url)
        if self._engine.dialect.name not in _UPSERT_INSERTS:
            self._engine.dispose()
            raise ValueError(f"store url: only SQLite and PostgreSQL are supported, not {self._engine.dialect.name}")
        if migrate:
            migrate_engine(self._engine)
        self._sessions = sessionmaker(self._engine, expire_on_commit=False)
        self.audit = AuditTrail(self._sessions)
        self.idempotency = IdempotencyRecords(self._sessions, self.audit)
        self.syncs = SyncRecords(self._sessions)
        self.intake = IntakeRecords(self._sessions, _UPSERT_INSERTS[self._engine.dialect.name])
        self.outbox = EventOutbox(self._sessions)
        self.alerts = AlertRecords(self._sessions)

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # Cross-references -------------------------------------------------------------------

    def record_cross_reference(self, ref: CrossReference) -> CrossReference:
        """Insert, or point an existing (entity, source, target system) key at a new target.

        One atomic `INSERT ... ON CONFLICT` so concurrent retries cannot race: recording the
        same target again changes nothing (the first `created_at` and `workflow_id` stay);
        a different target replaces the old one and `created_at` becomes the time of that change.
        """
        insert = _UPSERT_INSERTS[self._engine.dialect.name](CrossReferenceRow).values(
            entity=ref.entity,
            source_system=ref.source_system,
            source_id=ref.source_id,
            target_system=ref.target_system,
            target_id=ref.target_id,
            workflow_id=ref.workflow_id,
            created_at=ref.created_at or utcnow(),
        )
        upsert = insert.on_conflict_do_update(
            index_elements=["entity", "source_system", "source_id", "target_system"],
            set_={
                "target_id": insert.excluded.target_id,
                "workflow_id": insert.excluded.workflow_id,
                "created_at": insert.excluded.created_at,
            },
            where=CrossReferenceRow.target_id != insert.excluded.target_id,
        )
        with self._sessions.begin() as session:
            session.execute(upsert)
            key = _cross_reference_key(ref.entity, ref.source_system, ref.source_id, ref.target_system)
            row = session.scalars(select(CrossReferenceRow).where(*key)).one()
            return _cross_reference(row)

    def find_cross_reference(
        self, entity: str, source_system: str, source_id: str, target_system: str
    ) -> CrossReference | None:
        with self._sessions() as session:
            key = _cross_reference_key(entity, source_system, source_id, target_system)
            row = session.scalars(select(CrossReferenceRow).where(*key)).first()
            return _cross_reference(row) if row is not None else None

    def find_by_target(self, entity: str, target_system: str, target_id: str) -> list[CrossReference]:
        """Every source id mapped to this target (more than one means a duplicate to merge)."""
        query = (
            select(CrossReferenceRow)
            .where(
                CrossReferenceRow.entity == entity,
                CrossReferenceRow.target_system == target_system,
                CrossReferenceRow.target_id == target_id,
            )
            .order_by(CrossReferenceRow.id)
        )
        with self._sessions() as session:
            return [_cross_reference(row) for row in session.scalars(query)]

    def remove_cross_reference(self, entity: str, source_system: str, source_id: str, target_system: str) -> bool:
        """True when a reference was removed, False when there was none."""
        key = _cross_reference_key(entity, source_system, source_id, target_system)
        statement = delete(CrossReferenceRow).where(*key)
        with self._sessions.begin() as session:
            return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]

    def list_cross_references(
        self, entity: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[CrossReference]:
        """Oldest first (by insertion), so paging through a growing table is stable."""
        query = select(CrossReferenceRow).order_by(CrossReferenceRow.id)
        if entity is not None:
            query = query.where(CrossReferenceRow.entity == entity)
        with self._sessions() as session:
            return [_cross_reference(row) for row in session.scalars(_page(query, limit, offset))]

    # Business events --------------------------------------------------------------------

    def append_event(self, event: BusinessEvent, *, audit: AuditRecord | None = None) -> bool:
        """Record an event once: False (and nothing written) when its `event_id` exists.

        Relies on the unique constraint rather than a check-then-insert, which two concurrent
        retries could both pass; the loser's IntegrityError is the "already recorded" answer.
        With `audit`, the audit entry is written in the same transaction: an event is never
        recorded without its audit entry, nor audited twice. So are its outbox entries, one per
        subscription receiving it (`store.outbox`): an event recorded is an event delivered.
        """
        row = BusinessEventRow(
            event_id=event.event_id,
            type=event.type,
            subject=event.subject,
            workflow_id=event.workflow_id,
            occurred_at=event.occurred_at,
            # JSON mode turns datetimes, decimals and enums inside `data` into JSON values.
            data=event.model_dump(mode="json")["data"],
        )
        for _ in range(APPEND_ATTEMPTS):
            try:
                with self._sessions.begin() as session:
                    session.add(row)
                    session.flush()
                    self.outbox.add_deliveries_in(session, event, row.id)
                    if audit is not None:
                        self.audit.add_in(session, audit)
            except IntegrityError:
                if self._event_exists(event.event_id):
                    return False
                row = BusinessEventRow(**{c: getattr(row, c) for c in ("event_id", "type", "subject", "workflow_id",
                                                                      "occurred_at", "data")})  # fmt: skip
                continue  # the audit chain's head moved: try again on the new head
            return True
        raise RuntimeError("could not record the event: the audit trail stayed busy")

    def list_events(
        self, type: str | None = None, subject: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[BusinessEvent]:
        """Newest first by `occurred_at` (then by recording order)."""
        query = select(BusinessEventRow).order_by(BusinessEventRow.occurred_at.desc(), BusinessEventRow.id.desc())
        if type is not None:
            query = query.where(BusinessEventRow.type == type)
        if subject is not None:
            query = query.where(BusinessEventRow.subject == subject)
        with self._sessions() as session:
            return [
                BusinessEvent.model_validate(row, from_attributes=True)
                for row in session.scalars(_page(query, limit, offset))
            ]

    def _event_exists(self, event_id: str) -> bool:
        with self._sessions() as session:
            return bool(session.scalar(select(exists().where(BusinessEventRow.event_id == event_id))))

    # Dead letters -----------------------------------------------------------------------

    def add_dead_letter(self, letter: DeadLetter) -> DeadLetter:
        """Keep a record that could not be processed; returns it with its `id` and `created_at`."""
        row = DeadLetterRow(
            source=letter.source,
            record_key=letter.record_key,
            reason=letter.reason,
            payload=letter.model_dump(mode="json")["payload"],
            created_at=letter.created_at or utcnow(),
        )
        with self._sessions.begin() as session:
            session.add(row)
        return DeadLetter.model_validate(row, from_attributes=True)

    def list_dead_letters(self, source: str | None = None, limit: int = 100, offset: int = 0) -> list[DeadLetter]:
        """Newest first."""
        query = select(DeadLetterRow).order_by(DeadLetterRow.created_at.desc(), DeadLetterRow.id.desc())
        if source is not None:
            query = query.where(DeadLetterRow.source == source)
        with self._sessions() as session:
            return [
                DeadLetter.model_validate(row, from_attributes=True)
                for row in session.scalars(_page(query, limit, offset))
            ]


def _cross_reference_key(
    entity: str, source_system: str, source_id: str, target_system: str
) -> list[ColumnElement[bool]]:
    return [
        CrossReferenceRow.entity == entity,
        CrossReferenceRow.source_system == source_system,
        CrossReferenceRow.source_id == source_id,
        CrossReferenceRow.target_system == target_system,
    ]


def _cross_reference(row: CrossReferenceRow) -> CrossReference:
    return CrossReference.model_validate(row, from_attributes=True)


def _page(query: QueryT, limit: int, offset: int) -> QueryT:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must not be negative, got {offset}")
    return query.limit(limit).offset(offset)
