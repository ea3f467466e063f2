"""Seeding the sandbox database from the seed directory (sandbox/seed/ by default)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sandbox.db import SandboxDatabase
from sandbox.system import SandboxSystem

DEFAULT_SEED_DIR = Path(__file__).parent / "seed"


def load_json(seed_dir: Path, name: str) -> list[dict[str, Any]]:
    data = json.loads((seed_dir / name).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"seed file {name} must hold a JSON array")
    return data


def load_csv(seed_dir: Path, name: str) -> list[dict[str, str]]:
    """Rows with lower-cased column names and every value a string (missing -> "")."""
    with (seed_dir / name).open(encoding="utf-8", newline="") as handle:
        return [
            {key.strip().lower(): (value or "") for key, value in row.items() if key} for row in csv.DictReader(handle)
        ]


def seed_database(
    database: SandboxDatabase, systems: Sequence[SandboxSystem], seed_dir: Path, *, reset: bool = False
) -> bool:
    """Seed when the database is empty (or always, after deleting everything, when `reset`).
    Returns whether seed data was loaded."""
    database.create_schema()
    if reset:
        database.clear()
    if not reset and not database.is_empty():
        return False
    with database.sessionmaker() as session:
        for system in systems:
            system.seed(session, seed_dir)
        session.commit()
    return True
