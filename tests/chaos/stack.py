"""The stack's pieces as separate processes, so one can be killed: the Temporal dev server (on a
SQLite file, restartable on the same file), `supplybridge sandbox`, `supplybridge api` and
`supplybridge worker`, on free ports of 127.0.0.1 with one state dir. Everything started here is
stopped on exit, also when a test fails."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from temporalio.client import Client

from runtime.devserver import DevServer
from runtime.ports import free_port
from runtime.settings import DEV_SANDBOX_TOKEN, Settings
from runtime.temporal_client import connect
from starter import operations as ops
from workflows.search_attributes import REGISTRATION

CLI = [sys.executable, "-m", "starter.cli"]
SANDBOX_HEADERS = {"Authorization": f"Bearer {DEV_SANDBOX_TOKEN}"}
T = TypeVar("T")


@dataclass
class ChaosStack:
    state: Path
    settings: Settings
    devserver: DevServer
    client: Client | None = None
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    worker_starts: int = 0

    @property
    def env(self) -> dict[str, str]:
        s = self.settings
        return {
            **os.environ,
            "SUPPLYBRIDGE_TEMPORAL_ADDRESS": s.temporal_address,
            "SUPPLYBRIDGE_STATE_DIR": str(self.state),
            "SUPPLYBRIDGE_SANDBOX_PORT": str(s.sandbox_port),
            "SUPPLYBRIDGE_API_PORT": str(s.api_port),
            "SUPPLYBRIDGE_TEMPORAL_UI_PORT": str(s.temporal_ui_port),
            "SUPPLYBRIDGE_WORKER_METRICS_PORT": "0",  # two tests' workers at once on one machine
        }

    async def spawn(self, name: str, *args: str, ready: str = '"ready": true') -> None:
        """Start `supplybridge <args> --json`; return once it printed its ready line."""
        log = self.state / f"{name}-{self.worker_starts if name == 'worker' else 0}.log"
        with log.open("wb") as out:
            self.processes[name] = subprocess.Popen(
                [*CLI, *args, "--json"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, start_new_session=True,
            )  # fmt: skip
        process = self.processes[name]

        def started() -> bool:
            assert process.poll() is None, f"{name} exited {process.returncode}: {log.read_text()[-2000:]}"
            return ready in log.read_text()

        await until(lambda: asyncio.sleep(0, started()), timeout=30, what=f"{name} ready")

    async def start_worker(self) -> None:
        self.worker_starts += 1
        await self.spawn("worker", "worker")

    def kill_worker(self) -> None:
        """SIGKILL: no shutdown, no activity completion, no flushing; as a crashed host."""
        process = self.processes.pop("worker")
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    async def restart_devserver(self) -> None:
        """Stop the dev server and start it again on the same SQLite file and port."""
        await self.devserver.stop()
        await self.devserver.start()

    async def stop(self) -> None:
        for name, process in reversed(list(self.processes.items())):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT if name != "worker" else signal.SIGKILL)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self.processes.clear()
        await self.devserver.stop()

    def sandbox(self, method: str, path: str, **kwargs: Any) -> Any:
        """A sandbox call; a read is retried through the faults the test injected (at most 20 times)."""
        url = f"{self.settings.resolved_sandbox_url}{path}"
        for _ in range(20 if method == "GET" else 1):
            response = httpx.request(method, url, headers=SANDBOX_HEADERS, timeout=30, **kwargs)
            if response.status_code < 500 and response.status_code != 429:
                break
        response.raise_for_status()
        return response.json() if response.content else None

    def faults(self, system: str, **settings: Any) -> None:
        self.sandbox("PUT", f"/admin/faults/{system}", json=settings)

    async def view(self, workflow_id: str) -> ops.RunView:
        assert self.client is not None
        return await ops.describe_run(self.client, self.settings, workflow_id)

    async def converged(
        self, workflow_ids: list[str], timeout: float = 60.0, stages: set[str] | None = None
    ) -> dict[str, ops.RunView]:
        """Every run completed, or waits at a stage someone else owns (a person, the vendor, the
        dock), or at one of `stages` when given: polled with a deadline; the failure names the runs
        that did not get there."""
        views: dict[str, ops.RunView] = {}

        async def check() -> bool:
            for workflow_id in workflow_ids:
                with contextlib.suppress(Exception):  # the server may be restarting
                    views[workflow_id] = await self.view(workflow_id)
            return all(_settled(views.get(w), stages) for w in workflow_ids)

        try:
            await until(check, timeout=timeout, what="every run converged")
        except AssertionError:
            stuck = {
                w: (v.status, v.stage, v.error) if v else None for w, v in views.items() if not _settled(v, stages)
            }
            raise AssertionError(f"runs did not converge within {timeout:.0f} s: {stuck}") from None
        return views


def _settled(view: ops.RunView | None, stages: set[str] | None = None) -> bool:
    if view is None:
        return False
    if stages is not None:
        return view.stage in stages
    return view.status == "completed" or view.stage in ops.SETTLED_STAGES


async def until(check: Callable[[], Awaitable[T]], *, timeout: float, what: str) -> T:
    """Poll `check` until it returns something truthy (deadline, no fixed sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} not reached within {timeout:.0f} s"
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def chaos_stack(state: Path) -> AsyncIterator[ChaosStack]:
    """Dev server, sandbox, API and a worker, each its own process."""
    temporal_port, ui_port = free_port(), free_port()
    settings = Settings(
        temporal_address=f"127.0.0.1:{temporal_port}",
        temporal_ui_port=ui_port,
        sandbox_port=free_port(),
        api_port=free_port(),
        state_dir=state,
    )
    devserver = DevServer(state_dir=state, port=temporal_port, ui_port=ui_port, search_attributes=dict(REGISTRATION))
    stack = ChaosStack(state=state, settings=settings, devserver=devserver)
    try:
        await devserver.start()
        await asyncio.gather(
            stack.spawn("sandbox", "sandbox", "--port", str(settings.sandbox_port)),
            stack.spawn("api", "api", "--port", str(settings.api_port)),
        )
        await stack.start_worker()
        stack.client = await connect(settings)
        yield stack
    finally:
        await stack.stop()
