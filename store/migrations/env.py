"""Alembic environment for the store.

The URL or an open connection is handed in by `store.migrator` through the config object,
never read from an ini file, so migrations run the same from tests, the CLI and a wheel.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from store.db import make_engine
from store.models import Base

# Any 64-bit constant unique to this application; held only for the migration transaction.
_MIGRATION_LOCK_ID = 7_305_118_264_390_017


def _wait_for_other_migrators(connection: Connection) -> None:
    """Two processes upgrading a fresh database at once would both try to create the
    tables; take a database-wide lock first so the second one sees the finished schema."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
    elif connection.dialect.name == "sqlite":
        dbapi_connection = connection.connection.dbapi_connection
        # pysqlite opens transactions lazily, and DDL alone never opens one; take the write
        # lock explicitly so the whole upgrade is one serialised, atomic transaction.
        if dbapi_connection is not None and not dbapi_connection.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _run_migrations(connection: Connection) -> None:
    _wait_for_other_migrators(connection)
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection: Connection | None = context.config.attributes.get("connection")
    if connection is not None:
        _run_migrations(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("set the 'sqlalchemy.url' option or pass a connection in config.attributes")
    engine = make_engine(url)
    try:
        with engine.begin() as new_connection:
            _run_migrations(new_connection)
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    """`alembic upgrade head --sql`: print the DDL for a DBA instead of running it."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
