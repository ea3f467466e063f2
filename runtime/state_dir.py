"""The state dir and the files the platform keeps in it are readable by their owner only.

The state dir (`--state-dir`, `SUPPLYBRIDGE_STATE_DIR`) holds the Temporal SQLite file (workflow
histories: encrypted payloads, but also workflow ids, search attributes and failures), our store
(audit trail, idempotency records, cross-references), the sandbox database (synthetic supplier
tax ids and bank accounts) and `temporal.log`. So the directory is created 0700 (and an existing
one tightened to 0700), and each file is created 0600 before anything writes to it: SQLite gives
its `-wal`, `-shm` and `-journal` files the mode of the database file, so they follow; existing
ones from an older version are tightened too. The Temporal dev server creates its own database
(an empty file would pass for an initialised one), so it is started under umask 077
(runtime/devserver.py), and its existing files are tightened.

Only stdlib here: the store and the sandbox use it when they create their SQLite engines.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PRIVATE_UMASK = 0o077
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def prepare_state_dir(path: Path) -> Path:
    """Create `path` (and its parents) if needed and make it 0700."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it does not exist, else make it 0600 (if it is ours)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE_MODE))
    with contextlib.suppress(PermissionError):  # someone else's file: theirs to protect
        os.chmod(path, PRIVATE_FILE_MODE)
    return path


def private_sqlite_file(path: Path) -> Path:
    """Before an SQLite database at `path` is opened: its directory exists (a new one 0700), the
    file is 0600, and so are its side files left from earlier runs."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    private_file(path)
    return tighten_sqlite_files(path)


def tighten_sqlite_files(path: Path) -> Path:
    """Make an SQLite database and its side files 0600, those of them that exist (the Temporal
    dev server must create its database itself: it takes an empty file for an initialised one)."""
    for suffix in ("", *SQLITE_SIDE_FILES):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            os.chmod(path.with_name(path.name + suffix), PRIVATE_FILE_MODE)
    return path


def private_umask() -> None:
    """For a child process (`preexec_fn`): whatever it creates is its owner's only."""
    os.umask(PRIVATE_UMASK)
