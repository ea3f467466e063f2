"""The state dir is its owner's only: created 0700 (an existing one tightened), and every file the
platform keeps there (store, sandbox, Temporal SQLite with their -wal/-shm, temporal.log) 0600."""

from __future__ import annotations

import stat
from pathlib import Path

from runtime.devserver import DevServer
from runtime.ports import free_port
from runtime.settings import Settings
from runtime.state_dir import prepare_state_dir, private_sqlite_file
from sandbox.db import SandboxDatabase
from starter.stack import sandbox_config
from store import Store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def assert_private(state: Path, *names: str) -> None:
    assert mode(state) == 0o700, oct(mode(state))
    files = sorted(p for p in state.iterdir() if p.is_file())
    assert {n for n in names} <= {p.name for p in files}, files
    loose = {p.name: oct(mode(p)) for p in files if mode(p) != 0o600}
    assert not loose, f"readable by others: {loose}"


def test_the_store_creates_a_private_state_dir_and_files(tmp_path: Path) -> None:
    state = tmp_path / "new" / "state"
    with Store(Settings(state_dir=state).resolved_store_url) as store:
        store.list_events()
        assert_private(state, "supplybridge.sqlite", "supplybridge.sqlite-wal", "supplybridge.sqlite-shm")


def test_the_sandbox_database_is_private(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path / "state")
    database = SandboxDatabase(sandbox_config(settings).database_url)
    try:
        database.create_schema()
        assert database.is_empty()
        assert_private(settings.state_dir, "sandbox.sqlite", "sandbox.sqlite-wal", "sandbox.sqlite-shm")
    finally:
        database.dispose()


def test_an_existing_world_readable_state_is_tightened(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    state.chmod(0o755)
    for name in ("supplybridge.sqlite", "supplybridge.sqlite-wal"):
        (state / name).write_bytes(b"")
        (state / name).chmod(0o644)
    prepare_state_dir(state)
    private_sqlite_file(state / "supplybridge.sqlite")
    assert_private(state, "supplybridge.sqlite", "supplybridge.sqlite-wal")


async def test_the_temporal_dev_server_keeps_its_database_and_log_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    async with DevServer(state_dir=state, port=free_port(), ui_port=free_port()):
        assert_private(state, "temporal.sqlite", "temporal.sqlite-wal", "temporal.sqlite-shm", "temporal.log")
