"""`POST /v1/purchase-orders` through the whole governed API (address and principal limits,
authentication, validation, idempotency record, workflow start, the resubmission check, audit
entry; 202 at once) next to the yardstick: a raw `client.start_workflow` of the same workflow
with the same input, 16 at once as the API's clients; and next to a bare FastAPI route that only
returns, all in the same run.

The rate limit is raised for the measurement: it measures the request path, not the limiter.

Both sides start their runs on a task queue no worker polls: what is compared is the path to the
202, and on a small machine a worker executing the runs started so far takes CPU from whichever
side comes next (with the worker polling, the API side, measured after the raw one, ran while the
worker was still busy with the raw side's runs). The worker's share is what the throughput
measurements of bench/__main__.py measure. The raw and API sides alternate over `ROUNDS` rounds
(other load on the machine shifts any single run) and the medians are reported (5 rounds: with 3
the ratio moved between 0.78 and 0.89 from run to run).

The HTTP load comes from aiohttp, not httpx: the load driver shares the machine with the API and the
Temporal server, and httpx's client took about a fifth of a core at these rates (aiohttp 7%), CPU
that on 2 cores was taken from the side being measured. Clients of a deployed API run
elsewhere. Measured side by side on this machine: the ratio was 0.75-0.79 with httpx driving and
0.79-0.86 with aiohttp, for the same API."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from fastapi import FastAPI
from temporalio.client import Client

from domain.po_models import PurchaseOrderInput
from domain.purchasing import PurchaseOrder, purchase_order_workflow_id
from runtime.http_server import embedded_server, wait_until_healthy
from runtime.ports import free_port
from runtime.settings import Settings
from starter.api.security import issue_token
from starter.operations.starts import po_policy
from tests.examples import example_json
from workflows.purchase_order import PurchaseOrderWorkflow

CONCURRENCY = 16
ROUNDS = 5


@dataclass
class Latencies:
    rps: float
    p50_ms: float
    p99_ms: float

    def line(self, name: str) -> str:
        return f"{name:34} {self.rps:7.1f} req/s  p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:6.1f} ms"


async def _start_raw(client: Client, settings: Settings, count: int, po: Callable[[int], dict[str, Any]]) -> Latencies:
    """The same PO workflow with the same input, started straight through the Temporal client."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while not queue.empty():
            order = PurchaseOrder.model_validate(po(queue.get_nowait()))
            started = time.perf_counter()
            await client.start_workflow(
                PurchaseOrderWorkflow.run,
                PurchaseOrderInput(po=order, policy=po_policy(settings), submitted_by="bench"),
                id=purchase_order_workflow_id(order.po_number),
                task_queue=settings.task_queue,
            )
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return _latencies(latencies, count, time.perf_counter() - started)


def _latencies(latencies: list[float], count: int, elapsed: float) -> Latencies:
    ordered = sorted(latencies)
    return Latencies(
        rps=count / elapsed,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    )


def _median(runs: list[Latencies]) -> Latencies:
    return Latencies(
        rps=statistics.median(run.rps for run in runs),
        p50_ms=statistics.median(run.p50_ms for run in runs),
        p99_ms=statistics.median(run.p99_ms for run in runs),
    )


async def _drive(url: str, count: int, body: Callable[[int], dict[str, Any]], headers: dict[str, str]) -> Latencies:
    """`count` POSTs, `CONCURRENCY` at once, from aiohttp (see the module docstring for why not httpx)."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as client:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                started = time.perf_counter()
                async with client.post(url, json=body(i), headers=headers | {"Idempotency-Key": f"k-{i}"}) as response:
                    text = await response.read()
                latencies.append(time.perf_counter() - started)
                if response.status >= 300:
                    raise SystemExit(f"{url} answered {response.status}: {text[:300]!r}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        elapsed = time.perf_counter() - started
    return _latencies(latencies, count, elapsed)


def _bare_app() -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bare")
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    return app


async def measure(
    client: Client, temporal_address: str, task_queue: str, state: Path, count: int
) -> tuple[Latencies, Latencies, Latencies]:
    """(the API, a raw start of the same workflow, a bare route), the medians of `ROUNDS`
    alternating rounds. The API runs in its own process, as `supplybridge api` does in a
    deployment (in this process it would share one event loop with the load driver); the raw
    starts come from this process's client. `task_queue` should be one no worker polls (see the
    module docstring)."""
    settings = Settings(
        task_queue=task_queue, state_dir=state, rate_limit_per_minute=1_000_000, address_rate_limit_per_minute=1_000_000
    )
    api_port, bare_port = free_port(), free_port()
    bare_server = embedded_server(_bare_app(), "127.0.0.1", bare_port)
    bare_task = asyncio.create_task(bare_server.serve())
    api_process = _start_api_process(temporal_address, task_queue, state, api_port)
    try:
        await wait_until_healthy(f"http://127.0.0.1:{bare_port}/health", server_task=bare_task)
        await _wait_for_api(f"http://127.0.0.1:{api_port}/health", api_process)
        template = example_json("purchase-orders/po-northgate-gowns.json")
        bare = await _drive(f"http://127.0.0.1:{bare_port}/bare", count, lambda i: {}, {})
        raws, apis = [], []
        for round_ in range(ROUNDS + 1):  # round 0 warms both sides up (first requests of a process)
            run = uuid.uuid4().hex[:8]
            token, _ = issue_token(settings, f"bench-{run}", ["procurement:write"])  # its own Idempotency-Keys
            headers = {"Authorization": f"Bearer {token}"}
            size = count if round_ else 2 * CONCURRENCY
            raw_round = await _start_raw(client, settings, size, _numbered(template, f"PO-RAW-{run}"))
            api_url = f"http://127.0.0.1:{api_port}/v1/purchase-orders"
            api_round = await _drive(api_url, size, _numbered(template, f"PO-API-{run}"), headers)
            if round_:
                raws.append(raw_round)
                apis.append(api_round)
        api, raw = _median(apis), _median(raws)
    finally:
        api_process.send_signal(signal.SIGINT)
        try:
            api_process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            api_process.kill()
            api_process.wait()
        bare_server.should_exit = True
        await asyncio.gather(bare_task, return_exceptions=True)
    return api, raw, bare


def _numbered(template: dict[str, Any], prefix: str) -> Callable[[int], dict[str, Any]]:
    return lambda i: {**template, "po_number": f"{prefix}-{i:05d}"}


def _start_api_process(temporal_address: str, task_queue: str, state: Path, port: int) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "SUPPLYBRIDGE_TEMPORAL_ADDRESS": temporal_address,
        "SUPPLYBRIDGE_TASK_QUEUE": task_queue,
        "SUPPLYBRIDGE_STATE_DIR": str(state),
        "SUPPLYBRIDGE_RATE_LIMIT_PER_MINUTE": "1000000",
        "SUPPLYBRIDGE_ADDRESS_RATE_LIMIT_PER_MINUTE": "1000000",
    }
    command = [sys.executable, "-m", "starter.cli", "api", "--port", str(port)]
    return subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _wait_for_api(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the API process exited with {process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise SystemExit("the API process did not answer within 60 s")
