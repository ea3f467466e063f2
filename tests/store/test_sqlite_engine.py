"""SQLite-specific engine settings that let the worker and the API share one file."""

from __future__ import annotations

from pathlib import Path

from domain.events import DeadLetter
from store import Store
from store.db import make_engine


def test_sqlite_engine_creates_the_directory_and_sets_the_pragmas(tmp_path: Path) -> None:
    database = tmp_path / "not" / "yet" / "there.sqlite"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        engine.dispose()

    assert database.parent.is_dir()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}


def test_an_in_memory_store_keeps_its_data_across_calls() -> None:
    with Store("sqlite://") as store:
        store.add_dead_letter(DeadLetter(source="test", record_key="k", reason="r"))

        assert [d.record_key for d in store.list_dead_letters()] == ["k"]


def test_a_bare_postgresql_url_means_psycopg_3() -> None:
    engine = make_engine("postgresql://user@localhost/db")
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()
