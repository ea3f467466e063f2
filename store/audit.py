"""The audit trail in the store: append (extending the hash chain), query, verify.

Appending reads the chain's head and inserts the next entry in one transaction; `prev_hash` is
unique, so when two writers race for the same head one of them fails and retries on the new
head: the chain never forks, on SQLite or PostgreSQL. On PostgreSQL appenders first take a
transaction-scoped advisory lock, so they queue instead of racing (under load, retrying on
conflicts alone starved some writers); SQLite serialises writers by itself. A conflict that still
happens is retried after a short random backoff.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.audit import GENESIS, AuditEntry, AuditRecord, ChainReport, entry_hash, mask_sensitive, verify_chain
from store.models import AuditEntryRow, utcnow

APPEND_ATTEMPTS = 20
APPEND_LOCK = 0x5B_A0D17  # the advisory lock key appenders queue on (PostgreSQL)
VERIFY_BATCH = 1000
T = TypeVar("T")

# The append's two statements, built once: a statement built per call (values embedded) spent
# most of an API request's CPU in SQLAlchemy's statement construction and cache keys.
_ENTRIES = cast(Table, AuditEntryRow.__table__)
_HEAD = select(_ENTRIES.c.seq, _ENTRIES.c.hash).order_by(_ENTRIES.c.seq.desc()).limit(1)
_APPEND = insert(_ENTRIES)  # a Core INSERT, the values given at execution: no ORM unit of work


class AuditTrail:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def append(self, record: AuditRecord) -> AuditEntry:
        return self.append_with(record, lambda session: None)[0]

    def append_with(self, record: AuditRecord, work: Callable[[Session], T]) -> tuple[AuditEntry, T]:
        """Append `record` and do `work` in the same transaction (both or neither), retried as a
        whole when another writer took the chain's head; `work` must be safe to run again."""
        for attempt in range(APPEND_ATTEMPTS):
            try:
                with self._sessions.begin() as session:
                    done = work(session)
                    return self.add_in(session, record), done
            except IntegrityError:  # another writer took this head: read the new one
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
        raise RuntimeError("the audit trail is too busy: could not append after repeated conflicts")

    def add_in(self, session: Session, record: AuditRecord) -> AuditEntry:
        """Add the next entry inside the caller's transaction (IntegrityError when the head moved)."""
        details: dict[str, Any] = json.loads(json.dumps(mask_sensitive(record.details), default=str))
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})
        head = session.execute(_HEAD).first()
        fields: dict[str, Any] = {
            "seq": head.seq + 1 if head is not None else 1,
            "at": record.at or utcnow(),
            "actor": record.actor,
            "action": record.action,
            "record_type": record.record_type,
            "record_id": record.record_id,
            "outcome": record.outcome,
            "details": details,
            "prev_hash": head.hash if head is not None else GENESIS,
        }
        fields["hash"] = entry_hash(**fields)
        session.execute(_APPEND, fields)
        return AuditEntry(**fields)

    def query(
        self,
        *,
        record_type: str | None = None,
        record_id: str | None = None,
        actor: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditEntry]:
        """Oldest first."""
        query = select(AuditEntryRow).order_by(AuditEntryRow.seq)
        if record_type:
            query = query.where(AuditEntryRow.record_type == record_type)
        if record_id:
            query = query.where(AuditEntryRow.record_id == record_id)
        if actor:
            query = query.where(AuditEntryRow.actor == actor)
        if since:
            query = query.where(AuditEntryRow.at >= since)
        if until:
            query = query.where(AuditEntryRow.at < until)
        with self._sessions() as session:
            return [_entry(row) for row in session.scalars(query.limit(limit).offset(offset))]

    def verify(self) -> ChainReport:
        return verify_chain(self._all())

    def _all(self) -> Iterator[AuditEntry]:
        after = 0
        while True:
            with self._sessions() as session:
                query = select(AuditEntryRow).where(AuditEntryRow.seq > after).order_by(AuditEntryRow.seq)
                rows = [_entry(row) for row in session.scalars(query.limit(VERIFY_BATCH))]
            if not rows:
                return
            yield from rows
            after = rows[-1].seq


def _entry(row: AuditEntryRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        record_type=row.record_type,
        record_id=row.record_id,
        outcome=row.outcome,
        details=dict(row.details),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
