"""`POST /v1/purchase-orders` through the whole governed API (address and principal limits,
authentication, validation, idempotency record, workflow start, the resubmission check, audit
entry; 202 at once) next to the yardstick: a raw `client.start_workflow` of the same workflow
with the same input, 16 at once as the API's clients; and next to a bare FastAPI route that only
returns, all in the same run.

The rate limit is raised for the measurement: it measures the request path, not the limiter."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from temporalio.client import Client

from domain.po_models import PurchaseOrderInput
from domain.purchasing import PurchaseOrder, purchase_order_workflow_id
from runtime.http_server import embedded_server, wait_until_healthy
from runtime.ports import free_port
from runtime.settings import Settings
from starter.api.app import create_app
from starter.api.security import issue_token
from starter.operations.starts import po_policy
from store import Store
from tests.examples import example_json
from workflows.purchase_order import PurchaseOrderWorkflow

CONCURRENCY = 16


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


async def _drive(url: str, count: int, body: Callable[[int], dict[str, Any]], headers: dict[str, str]) -> Latencies:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    async with httpx.AsyncClient(timeout=60) as client:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post(url, json=body(i), headers=headers | {"Idempotency-Key": f"k-{i}"})
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 300:
                    raise SystemExit(f"{url} answered {response.status_code}: {response.text[:300]}")

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


async def measure(client: Client, task_queue: str, state: Path, count: int) -> tuple[Latencies, Latencies, Latencies]:
    """(the API, a raw start of the same workflow, a bare route)."""
    settings = Settings(
        task_queue=task_queue, state_dir=state, rate_limit_per_minute=1_000_000, address_rate_limit_per_minute=1_000_000
    )
    store = Store(settings.resolved_store_url)
    api_port, bare_port = free_port(), free_port()
    servers = [embedded_server(create_app(settings, client=client, store=store), "127.0.0.1", api_port),
               embedded_server(_bare_app(), "127.0.0.1", bare_port)]  # fmt: skip
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        for port, task in zip((api_port, bare_port), tasks, strict=True):
            await wait_until_healthy(f"http://127.0.0.1:{port}/health", server_task=task)
        token, _ = issue_token(settings, "bench", ["procurement:write"])
        headers = {"Authorization": f"Bearer {token}"}
        template = example_json("purchase-orders/po-northgate-gowns.json")
        run = uuid.uuid4().hex[:8]

        def po(i: int) -> dict[str, Any]:
            return {**template, "po_number": f"PO-API-{run}-{i:05d}"}

        def raw_po(i: int) -> dict[str, Any]:
            return {**template, "po_number": f"PO-RAW-{run}-{i:05d}"}

        bare = await _drive(f"http://127.0.0.1:{bare_port}/bare", count, lambda i: {}, {})
        raw = await _start_raw(client, settings, count, raw_po)
        api = await _drive(f"http://127.0.0.1:{api_port}/v1/purchase-orders", count, po, headers)
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        store.close()
    return api, raw, bare
