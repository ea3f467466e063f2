"""Storage for the sandbox systems: one generic document table, an idempotency table and id
counters, on SQLite through SQLAlchemy 2.0.

Every sandbox system keeps its records as JSON documents keyed by (system, kind, doc_id): the
systems are reference implementations, so a schema per system would only add migrations
without teaching anything. Insertion order (`seq`) is the listing order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import (
    JSON,
    Engine,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool

from runtime.state_dir import private_sqlite_file
from sandbox.errors import SandboxError


class Base(DeclarativeBase):
    pass


class Document(Base):
    __tablename__ = "sandbox_documents"
    __table_args__ = (UniqueConstraint("system", "kind", "doc_id"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    system: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(40))
    doc_id: Mapped[str] = mapped_column(String(120))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)


class IdempotencyRecord(Base):
    """The first response to a change request carrying an Idempotency-Key, replayed verbatim."""

    __tablename__ = "sandbox_idempotency"

    system: Mapped[str] = mapped_column(String(40), primary_key=True)
    method: Mapped[str] = mapped_column(String(10), primary_key=True)
    path: Mapped[str] = mapped_column(String(500), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    response_body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[str] = mapped_column(String(40))


class Counter(Base):
    """Monotonic id sequences (SUP-0007, SITE-00012, ...), so ids are never reused until a reset."""

    __tablename__ = "sandbox_counters"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


class SandboxDatabase:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)

    def clear(self) -> None:
        """Delete every row (rather than dropping tables, which would wait on open readers)."""
        with self.sessionmaker() as session:
            for table in reversed(Base.metadata.sorted_tables):
                session.execute(table.delete())
            session.commit()

    def is_empty(self) -> bool:
        with self.sessionmaker() as session:
            return session.scalar(select(Document.seq).limit(1)) is None

    def dispose(self) -> None:
        self.engine.dispose()


IDLE_CONNECTIONS_KEPT = 10
BUSY_TIMEOUT_SECONDS = 15


def _create_engine(url: str) -> Engine:
    """An engine whose connection checkout never waits.

    Why: the routes are sync, so FastAPI runs each request on several hops of the shared thread
    pool (40 threads): the session dependency, the route, the response validation, then the
    dependency's exit, which commits and gives the connection back. A connection is held across
    those hops, so a request holding one needs another free thread to return it. With a bounded
    pool (SQLAlchemy's default QueuePool, 5 + 10) a burst of 60 reads filled every thread with
    requests waiting for a connection while the 15 holders waited for a thread: nothing moved
    until the 30 s checkout timeout, then 500s; /health (then a sync route, queued for a thread
    too) stopped answering, and every wave of retries did it again.

    So the pool keeps a few idle connections but opens more without limit: concurrency is
    bounded by the thread pool and the request count, not by a second, smaller limit that can
    deadlock with it. An SQLite connection is a file handle, cheap to open. SQLite itself
    allows many readers and one writer: WAL lets readers run beside the writer, the busy
    timeout makes a second writer (the webhook and acknowledgement workers beside a request)
    wait its turn instead of failing, and the idempotency middleware serialises request writes.
    """
    if not url.startswith("sqlite"):
        return create_engine(url)
    database = url.split("///", 1)[1] if "///" in url else ""
    if database in ("", ":memory:"):
        # One shared connection, or each thread would see its own empty in-memory database
        # (for unit tests; a served sandbox uses a file).
        return create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
    private_sqlite_file(Path(database))  # 0600 file, new directory 0700 (runtime/state_dir.py)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_SECONDS},
        poolclass=QueuePool,
        pool_size=IDLE_CONNECTIONS_KEPT,
        max_overflow=-1,  # no upper bound: a checkout never waits (see above)
    )

    @event.listens_for(engine, "connect")
    def _use_wal(dbapi_connection: Any, _record: Any) -> None:
        # Readers (and the webhook worker) do not wait for the writer in WAL mode.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    return engine


class Documents:
    """The documents of one sandbox system, within one session."""

    def __init__(self, session: Session, system: str) -> None:
        self.session = session
        self.system = system

    def _row(self, kind: str, doc_id: str) -> Document | None:
        query = select(Document).where(Document.system == self.system, Document.kind == kind, Document.doc_id == doc_id)
        return self.session.scalar(query)

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        row = self._row(kind, doc_id)
        return dict(row.body) if row is not None else None

    def require(self, kind: str, doc_id: str, *, label: str | None = None) -> dict[str, Any]:
        body = self.get(kind, doc_id)
        if body is None:
            raise SandboxError(404, "not_found", f"{label or kind} {doc_id} does not exist")
        return body

    def update(self, kind: str, doc_id: str, changes: dict[str, Any], *, label: str | None = None) -> dict[str, Any]:
        """A steward's edit: the document with `changes` merged in and `updated_at` stamped (404
        naming `label` when there is none)."""
        body = self.require(kind, doc_id, label=label)
        return self.put(kind, doc_id, {**body, **changes, "updated_at": utc_now()})

    def put(self, kind: str, doc_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Insert or replace. A new dict is always assigned so the JSON column sees the change."""
        row = self._row(kind, doc_id)
        if row is None:
            self.session.add(Document(system=self.system, kind=kind, doc_id=doc_id, body=dict(body)))
        else:
            row.body = dict(body)
        self.session.flush()
        return body

    def insert_many(self, kind: str, documents: list[tuple[str, dict[str, Any]]]) -> None:
        """Insert new documents in bulk (synthetic data): no lookup, so ids must be new."""
        rows = [{"system": self.system, "kind": kind, "doc_id": doc_id, "body": body} for doc_id, body in documents]
        if rows:
            self.session.execute(insert(Document), rows)
            self.session.flush()

    def delete(self, kind: str, doc_id: str) -> None:
        row = self._row(kind, doc_id)
        if row is not None:
            self.session.delete(row)
            self.session.flush()

    def delete_kind(self, kind: str) -> int:
        """Delete every document of `kind` (a list replaced by a newer file); returns how many."""
        result = self.session.execute(delete(Document).where(Document.system == self.system, Document.kind == kind))
        self.session.flush()
        return int(getattr(result, "rowcount", 0) or 0)

    def all(self, kind: str) -> list[dict[str, Any]]:
        query = (
            select(Document.body).where(Document.system == self.system, Document.kind == kind).order_by(Document.seq)
        )
        return [dict(body) for body in self.session.scalars(query)]

    def window(self, kind: str, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
        """One page of `kind` in listing order, and how many there are (paged in SQL: a listing of
        tens of thousands of records does not load them all for every page)."""
        where = (Document.system == self.system, Document.kind == kind)
        total = self.session.scalar(select(func.count()).select_from(Document).where(*where)) or 0
        query = select(Document.body).where(*where).order_by(Document.seq).offset(offset).limit(limit)
        return [dict(body) for body in self.session.scalars(query)], int(total)

    def where_field_in(self, kind: str, field: str, values: set[str]) -> list[dict[str, Any]]:
        """Documents of `kind` whose JSON `field` is one of `values`."""
        if not values:
            return []
        query = (
            select(Document.body)
            .where(Document.system == self.system, Document.kind == kind, Document.body[field].as_string().in_(values))
            .order_by(Document.seq)
        )
        return [dict(body) for body in self.session.scalars(query)]

    def next_id(self, prefix: str, width: int) -> str:
        name = f"{self.system}:{prefix}"
        counter = self.session.get(Counter, name)
        if counter is None:
            counter = Counter(name=name, value=0)
            self.session.add(counter)
        counter.value += 1
        self.session.flush()
        return f"{prefix}{counter.value:0{width}d}"

    def advance_counter(self, prefix: str, at_least: int) -> None:
        """Seeding: make sure the next id allocated after seeded ids does not collide."""
        name = f"{self.system}:{prefix}"
        counter = self.session.get(Counter, name)
        if counter is None:
            self.session.add(Counter(name=name, value=at_least))
        elif counter.value < at_least:
            counter.value = at_least
        self.session.flush()


def _session(request: Request) -> Iterator[Session]:
    """One session per request, committed when the route returns without raising."""
    database: SandboxDatabase = request.app.state.database
    with database.sessionmaker() as session:
        yield session
        session.commit()


# scope="function": the commit happens before the response is sent, so a client that reads
# right after a change sees it.
DbSession = Annotated[Session, Depends(_session, scope="function")]
