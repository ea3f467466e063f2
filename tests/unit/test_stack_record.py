"""Operational commands (`events`, `audit list|verify`) read the running stack's store, found
through the record `up` leaves in .supplybridge/stack.json, or a store named explicitly; they say
which on their first line, and with neither they exit 1 instead of reporting an empty store."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from domain.audit import AuditRecord
from domain.events import BusinessEvent
from runtime.settings import Settings
from runtime.stack_record import (
    RECORD_NAME,
    WELL_KNOWN_RECORD,
    NoStoreFound,
    StackRecord,
    masked_url,
    read_record,
    remove_records,
    store_to_read,
    write_records,
)
from starter.cli import app as cli_app
from store import Store


def gone_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def record_for(state_dir: Path, pid: int) -> StackRecord:
    return StackRecord(
        pid=pid,
        state_dir=str(state_dir.resolve()),
        store=f"sqlite:///{(state_dir / 'supplybridge.sqlite').resolve()}",
        temporal="127.0.0.1:7233",
        ui="http://127.0.0.1:8233",
        sandbox="http://127.0.0.1:8300",
        api="http://127.0.0.1:8000",
        namespace="default",
        task_queue="supplybridge",
    )


def store_with_one_event(state_dir: Path) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    with Store(f"sqlite:///{(state_dir / 'supplybridge.sqlite').resolve()}") as store:
        store.append_event(
            BusinessEvent(
                event_id="evt-1",
                type="supplier.onboarded",
                subject="VM-200417",
                workflow_id="supplier-onboarding-VM-200417",
                occurred_at=datetime.now(UTC),
            ),
            audit=AuditRecord(
                actor="workflow:supplier-onboarding-VM-200417",
                action="supplier.onboarded",
                record_type="supplier",
                record_id="VM-200417",
            ),
        )


@pytest.fixture(autouse=True)
def in_a_fresh_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("SUPPLYBRIDGE_STATE_DIR", "SUPPLYBRIDGE_STORE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app, list(args), standalone_mode=False)
    assert result.exception is None, result.exception
    return int(result.return_value or 0), result.stdout, result.stderr


def test_the_record_is_written_in_the_state_dir_and_the_well_known_place_and_removed(tmp_path: Path) -> None:
    record = record_for(tmp_path / "sb", pid=os.getpid())
    paths = write_records(record)
    assert paths == [tmp_path / "sb" / RECORD_NAME, (tmp_path / WELL_KNOWN_RECORD).resolve()]
    assert read_record(WELL_KNOWN_RECORD) == record and read_record(paths[0]) == record
    assert (paths[0].stat().st_mode & 0o777) == 0o600
    remove_records(paths, record.pid)
    assert not any(path.exists() for path in paths)


def test_another_running_stacks_record_is_not_taken_over_nor_removed(tmp_path: Path) -> None:
    theirs = record_for(tmp_path / "theirs", pid=os.getppid())
    write_records(theirs)
    ours = record_for(tmp_path / "ours", pid=os.getpid())
    paths = write_records(ours)
    assert paths == [tmp_path / "ours" / RECORD_NAME]
    assert read_record(WELL_KNOWN_RECORD) == theirs
    remove_records([(tmp_path / WELL_KNOWN_RECORD).resolve()], ours.pid)
    assert read_record(WELL_KNOWN_RECORD) == theirs


def test_a_stale_record_is_replaced(tmp_path: Path) -> None:
    write_records(record_for(tmp_path / "old", pid=gone_pid()))
    ours = record_for(tmp_path / "new", pid=os.getpid())
    write_records(ours)
    assert read_record(WELL_KNOWN_RECORD) == ours


def test_the_running_stacks_store_is_read_and_named(tmp_path: Path) -> None:
    store_with_one_event(tmp_path / "sb")
    write_records(record_for(tmp_path / "sb", pid=os.getpid()))
    source = store_to_read(Settings())
    assert source.url.endswith("/sb/supplybridge.sqlite") and not source.notes
    assert f"pid {os.getpid()}" in source.description and str((tmp_path / "sb").resolve()) in source.description

    code, out, _ = cli("events")
    first, *rest = out.splitlines()
    assert code == 0 and first.startswith("reading the running stack") and "supplybridge.sqlite" in first
    assert any("supplier.onboarded" in line and "VM-200417" in line for line in rest)
    code, out, _ = cli("audit", "verify", "--json")
    answer = json.loads(out)
    assert code == 0 and answer["ok"] and answer["entries"] == 1 and "running stack" in answer["source"]


@pytest.mark.parametrize("command", [["events"], ["audit", "verify"], ["audit", "list"]])
def test_no_running_stack_and_no_store_named_is_exit_1_saying_what_to_do(command: list[str]) -> None:
    Settings().state_dir.mkdir()  # the default state dir exists, but holds no running stack
    code, out, _ = cli(*command, "--json")
    answer: dict[str, Any] = json.loads(out)
    assert code == 1 and answer["ok"] is False
    assert "no running SupplyBridge stack" in answer["error"] and "--state-dir" in answer["error"]
    assert not (Path(".supplybridge") / "supplybridge.sqlite").exists(), "an empty store was created"


def test_a_stale_record_is_ignored_with_a_note(tmp_path: Path) -> None:
    store_with_one_event(tmp_path / "sb")
    write_records(record_for(tmp_path / "sb", pid=gone_pid()))
    with pytest.raises(NoStoreFound, match=r"ignored .*stack\.json: the stack it names \(pid \d+\) is no longer"):
        store_to_read(Settings())


def test_an_explicit_state_dir_is_read_and_a_stale_record_in_it_noted(tmp_path: Path) -> None:
    store_with_one_event(tmp_path / "demo")
    write_records(record_for(tmp_path / "demo", pid=gone_pid()))
    source = store_to_read(Settings(state_dir=tmp_path / "demo"))
    assert "no stack running on it" in source.description and "no longer running" in source.notes[0]

    code, out, err = cli("audit", "list", "--state-dir", str(tmp_path / "demo"))
    assert code == 0 and out.startswith(f"reading the state dir {(tmp_path / 'demo').resolve()}")
    assert "supplier.onboarded" in out and "note: ignored" in err


def test_an_explicit_state_dir_without_a_store_is_exit_1_not_an_empty_report(tmp_path: Path) -> None:
    code, out, _ = cli("audit", "verify", "--state-dir", str(tmp_path / "nothing"), "--json")
    answer = json.loads(out)
    assert code == 1 and answer["ok"] is False and "no store in" in answer["error"]
    assert not (tmp_path / "nothing").exists()


def test_an_explicit_store_url_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store_with_one_event(tmp_path / "elsewhere")
    monkeypatch.setenv("SUPPLYBRIDGE_STORE_URL", f"sqlite:///{tmp_path / 'elsewhere' / 'supplybridge.sqlite'}")
    code, out, _ = cli("events", "--json")
    answer = json.loads(out)
    assert code == 0 and [e["subject"] for e in answer["events"]] == ["VM-200417"]
    assert "SUPPLYBRIDGE_STORE_URL" in answer["source"]


def test_a_password_never_reaches_the_record_or_a_message(tmp_path: Path) -> None:
    assert masked_url("postgresql+psycopg://sb:s3cret@db:5432/sb") == "postgresql+psycopg://sb:***@db:5432/sb"
    assert masked_url("sqlite:////tmp/sb/supplybridge.sqlite") == "sqlite:////tmp/sb/supplybridge.sqlite"
    masked = replace(record_for(tmp_path, pid=os.getpid()), store="postgresql+psycopg://sb:***@db/sb")
    write_records(masked)
    with pytest.raises(NoStoreFound, match="set SUPPLYBRIDGE_STORE_URL"):
        store_to_read(Settings())
