"""The schema comes only from Alembic, and upgrading is safe to repeat and to race."""

from __future__ import annotations

import multiprocessing
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from domain.events import DeadLetter
from store import Store, migrate
from store.db import make_engine
from store.migrator import alembic_config
from store.models import Base

STORE_TABLES = {
    "cross_references",
    "business_events",
    "dead_letters",
    "event_subscriptions",
    "event_deliveries",
    "alerts",
    "alert_system_checks",
}


def _current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_migrate_twice_reaches_head_and_keeps_data(database_url: str) -> None:
    migrate(database_url)
    with Store(database_url, migrate=False) as store:
        store.add_dead_letter(DeadLetter(source="x12-850", record_key="PO-1", reason="bad segment"))
    migrate(database_url)

    assert _current_revision(database_url) == _head_revision() == "0007"
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) >= STORE_TABLES
    finally:
        engine.dispose()
    with Store(database_url) as store:
        assert [letter.record_key for letter in store.list_dead_letters()] == ["PO-1"]


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    migrate(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_store_without_migrate_leaves_the_database_untouched(database_url: str) -> None:
    with Store(database_url, migrate=False):
        pass
    assert _current_revision(database_url) is None


def _migrate_together(url: str, everyone_ready: Any) -> None:
    everyone_ready.wait(timeout=60)
    migrate(url)


def test_concurrent_processes_migrating_a_fresh_database_all_succeed(database_url: str) -> None:
    """The worker and the API both migrate at start; neither may crash on "table exists"."""
    spawn = multiprocessing.get_context("spawn")
    everyone_ready = spawn.Barrier(3)
    processes = [spawn.Process(target=_migrate_together, args=(database_url, everyone_ready)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)

    assert [process.exitcode for process in processes] == [0, 0, 0]
    assert _current_revision(database_url) == "0007"
