"""Every store test runs on SQLite and, when a server is configured, on PostgreSQL.

PostgreSQL runs get one throwaway database per test session (so parallel runs and other
suites never collide) and an empty `public` schema per test (so each test starts from a
fresh, unmigrated database, exactly like SQLite's new file).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from store import Store

POSTGRES_URL_VARIABLE = "SUPPLYBRIDGE_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    server_url = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server_url:
        pytest.skip(
            f"PostgreSQL not configured: set {POSTGRES_URL_VARIABLE} "
            "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run these tests on it"
        )
    name = f"sb_test_{uuid4().hex}"
    server = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.dispose()


def _empty_public_schema(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE")
            connection.exec_driver_sql("CREATE SCHEMA public")
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, unmigrated database (the SQLite file's directory does not exist yet)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'store.sqlite'}"
    url: str = request.getfixturevalue("postgres_database_url")
    _empty_public_schema(url)
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    with Store(database_url) as opened:
        yield opened
