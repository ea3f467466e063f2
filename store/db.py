"""Engine construction for the store's two supported databases, SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

from runtime.state_dir import private_sqlite_file

_BUSY_TIMEOUT_SECONDS = 5.0


def make_engine(url: str | URL) -> Engine:
    """An engine configured for how the platform uses the store.

    SQLite: the file's directory is created (the state dir may not exist on first start), the
    file is its owner's only (0600, runtime/state_dir.py),
    the connection may be used from `asyncio.to_thread` worker threads, and WAL with a busy
    timeout lets the worker and the API read and write the same file at once. An in-memory
    database keeps one shared connection, otherwise each connection would see an empty one.
    A file gets one connection per process too (`pool_size=1`): SQLite takes one writer at a
    time, and threads of one process that each hold a connection find the file locked and wait
    in SQLite's busy handler, which sleeps 1, 2, 5, 10... 100 ms between tries, and an audit
    appender that read the chain's head before another thread's commit starts over. With one
    connection they queue on the pool instead and run back to back (under 16 concurrent API
    requests this halved the time a request spends in the store). Other processes on the same
    file still meet the busy timeout.

    PostgreSQL: connections are pinged before use, so a database restart costs one retry
    rather than an error. A bare `postgresql://` URL means psycopg 3 (the only driver we ship).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    database = url.database or ""
    if database in ("", ":memory:"):
        options["poolclass"] = StaticPool
    else:
        options.update(pool_size=1, max_overflow=0)  # one connection: see make_engine
        if not database.startswith("file:"):  # a `file:` URI is the caller's to manage
            private_sqlite_file(Path(database).expanduser())  # 0600 file, new directory 0700
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _set_sqlite_pragmas(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_SECONDS * 1000)}")
        _switch_to_wal(cursor)
        # In WAL mode NORMAL syncs at checkpoints, not at every commit: a committed write survives
        # a crash of the process, and only a power loss can take back the last commits (never
        # corrupting the file). The embedded store's choice; PostgreSQL is the production store.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    """WAL is a property of the file, set by whichever process gets there first.

    SQLite answers "database is locked" at once, without consulting the busy timeout, when
    two processes switch a fresh file at the same moment (the worker and the API starting
    together), so the switch is retried here until the same deadline.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
