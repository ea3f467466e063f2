"""Run the store's Alembic migrations from code: no alembic.ini, no working-directory assumptions.

The worker and the API both call this at start, so it must be safe to run twice and to
run concurrently; `migrations/env.py` serialises concurrent upgrades inside the database.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from store.db import make_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Alembic keeps the running migration context in module globals, so two upgrades in one
# process must take turns; separate processes are serialised by a database lock instead.
_in_process = threading.Lock()


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (and at `url`, when given). Alembic is
    imported here, not at the top: every CLI command imports the store, few migrate (about 0.4 s
    of each command's start)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # ConfigParser interpolates '%', which URL-encoded passwords contain.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Upgrade the database at `url` to the newest schema (`alembic upgrade head`)."""
    engine = make_engine(url)
    try:
        migrate_engine(engine)
    finally:
        engine.dispose()


def migrate_engine(engine: Engine) -> None:
    """Upgrade through an existing engine; needed for in-memory SQLite, where a second
    engine would see a different, empty database."""
    from alembic import command

    config = alembic_config()
    with _in_process, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
