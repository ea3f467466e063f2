"""A real `supplybridge up` per test module, on free ports with a fresh state dir, driven through
the CLI with --json as a user would."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.ports import free_port
from runtime.settings import DEV_SANDBOX_TOKEN

CLI = [sys.executable, "-m", "starter.cli"]


@dataclass
class Stack:
    temporal: str
    ui_port: int
    sandbox: str
    process: subprocess.Popen[str]
    api: str = ""
    state: str = ""
    cwd: str | None = None  # where `up` runs and records itself: the CLI run here finds this stack

    def cli(self, *args: str, check_json: bool = True) -> tuple[int, dict[str, Any]]:
        done = subprocess.run(
            [*CLI, "--address", self.temporal, "--ui-port", str(self.ui_port), *args, "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=self.cwd,
        )
        assert "Fatal Python error" not in done.stderr
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        assert len(lines) == 1, f"expected one JSON line, got: {done.stdout!r} / {done.stderr!r}"
        return done.returncode, json.loads(lines[0])

    def sandbox_get(self, path: str) -> Any:
        headers = {"Authorization": f"Bearer {DEV_SANDBOX_TOKEN}"}
        return httpx.get(f"{self.sandbox}{path}", headers=headers, timeout=10).json()

    def sandbox_post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {DEV_SANDBOX_TOKEN}"}
        return httpx.post(f"{self.sandbox}{path}", json=body, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("state")) as started:
        yield started


@contextlib.contextmanager
def running_stack(
    state: Path,
    cwd: Path | None = None,
    *,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    stop_timeout: float = 30,
) -> Iterator[Stack]:
    """`supplybridge up --json` on free ports with its state in `state`, run from `cwd` (where it
    records itself in .supplybridge/stack.json; by default a directory of its own beside `state`,
    so that two stacks of two test processes never share that record); stopped with Ctrl-C
    (SIGINT) at the end. `args` go to `up`, `env` (SUPPLYBRIDGE_... settings) into its environment."""
    if cwd is None:
        cwd = state.parent / f"{state.name}-cwd"
        cwd.mkdir(exist_ok=True)
    environment = {**os.environ, **(env or {})}
    for attempt in range(3):  # a free port can be taken by another test process before `up` binds it
        ports = distinct_free_ports("temporal", "ui", "sandbox", "api")
        process = subprocess.Popen(
            [
                *CLI,
                "up",
                "--state-dir",
                str(state),
                "--temporal-port",
                str(ports["temporal"]),
                "--ui-port",
                str(ports["ui"]),
                "--sandbox-port",
                str(ports["sandbox"]),
                "--api-port",
                str(ports["api"]),
                *args,
                "--json",
            ],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
            cwd=cwd,
        )
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline() or "{}")  # blocks until the ready line
        if ready.get("ready") is True or "already in use" not in str(ready.get("error")) or attempt == 2:
            break
        process.wait(timeout=30)
    try:
        assert ready.get("ready") is True, process.stderr.read() if process.poll() is not None else ready
        yield Stack(
            f"127.0.0.1:{ports['temporal']}",
            ports["ui"],
            f"http://127.0.0.1:{ports['sandbox']}",
            process,
            api=f"http://127.0.0.1:{ports['api']}",
            state=str(state),
            cwd=str(cwd),
        )
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise
    assert process.returncode == 0


def distinct_free_ports(*names: str) -> dict[str, int]:
    """A free port for each name, no two the same (a port freed after one check can come back)."""
    ports: dict[str, int] = {}
    while len(ports) < len(names):
        port = free_port()
        if port not in ports.values():
            ports[names[len(ports)]] = port
    return ports


def eventually(check: Callable[[], Any], *, timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy (deadline, no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not reached within {timeout:.0f} s"
        time.sleep(0.2)
