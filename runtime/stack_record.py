"""How the other commands find a running embedded stack (`supplybridge up`, `demo`), and which
store an operational command (`events`, `audit`) reads.

A stack that is ready writes a small JSON record (pid, state dir, store, ports, API URL) to
`stack.json` in its state dir and to `.supplybridge/stack.json` in the directory it was started
from: the well-known place (one file when the state dir is the default `.supplybridge`). It
removes both when it stops. The well-known record is not taken over from another stack that is
still running. A record whose pid is gone (a stack that was killed) is stale: it is ignored, with
a note saying so.

`store_to_read` decides what `events` and `audit` read: the store named explicitly
(`SUPPLYBRIDGE_STORE_URL`, or `--state-dir` / `SUPPLYBRIDGE_STATE_DIR`), else the running stack's.
With neither, or with a state dir that holds no store, it refuses (`NoStoreFound`): an empty
store reported as the truth would say "nothing happened" when we only looked in the wrong place.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from runtime.settings import Settings
from runtime.state_dir import prepare_state_dir, private_file

RECORD_NAME = "stack.json"
WELL_KNOWN_RECORD = Path(".supplybridge") / RECORD_NAME
STORE_FILE = "supplybridge.sqlite"
HIDDEN_PASSWORD = "***"


@dataclass(frozen=True)
class StackRecord:
    pid: int
    state_dir: str
    store: str  # the store's URL, its password (if any) masked
    temporal: str
    ui: str
    sandbox: str
    api: str
    namespace: str
    task_queue: str
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def running(self) -> bool:
        return pid_running(self.pid)

    def describe(self) -> str:
        return f"the running stack (pid {self.pid}, state dir {self.state_dir}, API {self.api})"


@dataclass(frozen=True)
class StoreSource:
    url: str
    description: str  # which stack or store, for the first line / the "store" field
    notes: list[str] = field(default_factory=list)  # e.g. a stale record that was ignored


class NoStoreFound(Exception):
    """No running stack and no store named: the message says what to do."""


def pid_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def masked_url(url: str) -> str:
    """The URL with its password replaced by ***, so a record or a message never holds it."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", f":{HIDDEN_PASSWORD}@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def read_record(path: Path) -> StackRecord | None:
    """The record at `path`, or None if there is none (or it is not a record)."""
    try:
        return StackRecord(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_records(record: StackRecord) -> list[Path]:
    """Write the record to its state dir and to the well-known place (unless another running stack
    holds that); the paths written, for `remove_records`."""
    paths = [Path(record.state_dir) / RECORD_NAME]
    current = read_record(WELL_KNOWN_RECORD)
    if current is None or current.pid == record.pid or not current.running:
        paths.append(WELL_KNOWN_RECORD.resolve())
    for path in dict.fromkeys(paths):
        prepare_state_dir(path.parent)
        temporary = path.with_name(f".{RECORD_NAME}.{record.pid}")
        private_file(temporary).write_text(json.dumps(asdict(record), indent=2) + "\n")
        temporary.replace(path)
    return list(dict.fromkeys(paths))


def remove_records(paths: list[Path], pid: int) -> None:
    """Remove the records this stack wrote, those still its own."""
    for path in paths:
        record = read_record(path)
        if record is not None and record.pid == pid:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def store_to_read(settings: Settings) -> StoreSource:
    """The store an operational command reads, and how to name it; `NoStoreFound` otherwise."""
    explicit = settings.model_fields_set
    if "store_url" in explicit and settings.store_url:
        return StoreSource(settings.store_url, f"the store {masked_url(settings.store_url)} (SUPPLYBRIDGE_STORE_URL)")
    if "state_dir" in explicit:
        return _state_dir_store(settings)
    record = read_record(WELL_KNOWN_RECORD)
    notes = []
    if record is not None and record.running:
        if HIDDEN_PASSWORD in record.store:
            raise NoStoreFound(
                f"{record.describe()} uses the store {record.store}: set SUPPLYBRIDGE_STORE_URL to read it"
            )
        return StoreSource(record.store, record.describe())
    if record is not None:
        notes.append(f"ignored {WELL_KNOWN_RECORD}: the stack it names (pid {record.pid}) is no longer running")
    earlier = settings.state_dir / STORE_FILE
    hint = f" ({settings.state_dir} holds the store of an earlier run: --state-dir {settings.state_dir} reads it)"
    raise NoStoreFound(
        "; ".join(
            [
                *notes,
                f"no running SupplyBridge stack found ({WELL_KNOWN_RECORD} in {Path.cwd()}) and no store named: "
                "start one with `supplybridge up`, or name the store with --state-dir DIR "
                "(e.g. .supplybridge/demo after `make demo`) or SUPPLYBRIDGE_STORE_URL"
                + (hint if earlier.exists() else ""),
            ]
        )
    )


def _state_dir_store(settings: Settings) -> StoreSource:
    state_dir = settings.state_dir.resolve()
    if not (state_dir / STORE_FILE).exists():
        raise NoStoreFound(f"no store in {state_dir} ({STORE_FILE} does not exist): is it a SupplyBridge state dir?")
    record = read_record(state_dir / RECORD_NAME)
    if record is not None and record.running:
        return StoreSource(settings.resolved_store_url, record.describe())
    notes = [f"ignored {state_dir / RECORD_NAME}: its stack (pid {record.pid}) is no longer running"] if record else []
    return StoreSource(settings.resolved_store_url, f"the state dir {state_dir} (no stack running on it)", notes)


def with_running_sandbox(settings: Settings) -> Settings:
    """`settings` with the running stack's sandbox (the external systems a command such as
    `inventory consume` talks to) when none was named (SUPPLYBRIDGE_SANDBOX_URL or
    SUPPLYBRIDGE_SANDBOX_PORT); the stack of `--state-dir` when one was given, else the well-known one."""
    explicit = settings.model_fields_set
    if explicit & {"sandbox_url", "sandbox_port", "inventory_url"}:
        return settings
    path = settings.state_dir / RECORD_NAME if "state_dir" in explicit else WELL_KNOWN_RECORD
    record = read_record(path)
    if record is None or not record.running:
        return settings
    return settings.model_copy(update={"sandbox_url": record.sandbox})
