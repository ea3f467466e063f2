"""What the servers we start as child processes (the Temporal dev server, trytond) share: the
child's setup before exec, a clean stop of its whole process group, the tail of its log for an
error message."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
from pathlib import Path

from runtime.state_dir import private_file, private_umask


def prepare_child() -> None:
    """In the child before exec: private umask; on Linux, SIGTERM if the process that started it
    dies without stopping it."""
    private_umask()
    if sys.platform != "linux":
        return
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn_logged(
    command: list[str], log_file: Path, *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """The child in a session (process group) of its own, its output appended to `log_file`
    (made 0600), stdin closed, `prepare_child` before exec."""
    log = private_file(log_file).open("ab")
    try:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=prepare_child,
        )
    finally:
        log.close()


async def stop_process_group(process: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM to the child's process group, SIGKILL after `timeout`; waits for it to end."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.to_thread(process.wait), timeout)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await asyncio.to_thread(process.wait)


def log_tail(path: Path, lines: int = 20) -> str:
    """The last `lines` of a child's log, for an error message."""
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"
