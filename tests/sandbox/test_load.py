"""The sandbox under the load the demo and the tests put on it: 100 requests at once (reads across
every system, keyed creates, some sent twice at the same moment) all answer, /health answers
while they run, and every create took effect exactly once.

Bounded in count and time (each request has a timeout, the whole burst a deadline); nothing
here measures speed."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from tests.support.sandbox import RunningSandbox

CONCURRENT_REQUESTS = 100
REQUEST_TIMEOUT_SECONDS = 20.0
BURST_DEADLINE_SECONDS = 90.0
READS = (
    "/erp/suppliers",
    "/erp/suppliers/SUP-0001",
    "/erp/purchase-orders",
    "/vendor-management/registrations",
    "/contracts/contracts",
    "/contracts/items",
    "/contracts/locations",
    "/screening/exclusions",
    "/inventory/balances",
    "/inventory/reservations",
    "/vendor-channel/events",
    "/ap/invoices",
)
RESERVATION_KEYS = 6  # each sent twice at once
SUPPLIER_KEYS = 4  # each sent twice at once
READ_COUNT = CONCURRENT_REQUESTS - 2 * (RESERVATION_KEYS + SUPPLIER_KEYS)


def _reservation(n: int) -> tuple[str, dict[str, Any]]:
    body = {"location_id": "LOC-CS-01", "item_id": "ITM-1001", "quantity": "1", "uom": "CS", "reference": f"load-{n}"}
    return "/inventory/reservations", body


def _supplier(n: int) -> tuple[str, dict[str, Any]]:
    tax_id = {"kind": "EIN", "value": f"61-70000{n:02d}"}
    body = {"legal_name": f"Load Test Supply {n} LLC", "tax_id": tax_id, "payment_terms": "NET30"}
    return "/erp/suppliers", body


def _requests() -> list[tuple[str, str, dict[str, Any] | None, str | None]]:
    """(method, path, body, idempotency key), duplicates interleaved with the reads."""
    writes = [("POST", *_reservation(n), f"load-rsv-{n}") for n in range(RESERVATION_KEYS)]
    writes += [("POST", *_supplier(n), f"load-sup-{n}") for n in range(SUPPLIER_KEYS)]
    reads: list[tuple[str, str, dict[str, Any] | None, str | None]] = [
        ("GET", READS[n % len(READS)], None, None) for n in range(READ_COUNT)
    ]
    mixed = reads[: READ_COUNT // 2] + writes + reads[READ_COUNT // 2 :] + writes
    assert len(mixed) == CONCURRENT_REQUESTS
    return mixed


async def _probe_health(url: str, burst: asyncio.Future[Any]) -> list[int]:
    """/health, on its own connection, again and again until the burst is over (at least once)."""
    answers: list[int] = []
    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_SECONDS) as client:
        while not answers or not burst.done():
            answers.append((await client.get("/health")).status_code)
            await asyncio.sleep(0.05)  # probing interval, not a wait for an outcome
    return answers


async def test_a_hundred_concurrent_requests_all_answer_and_health_stays_up(sandbox: RunningSandbox) -> None:
    limits = httpx.Limits(max_connections=CONCURRENT_REQUESTS, max_keepalive_connections=CONCURRENT_REQUESTS)
    async with httpx.AsyncClient(
        base_url=sandbox.url, headers=sandbox.headers, timeout=REQUEST_TIMEOUT_SECONDS, limits=limits
    ) as client:

        async def one(method: str, path: str, body: dict[str, Any] | None, key: str | None) -> httpx.Response:
            headers = {"Idempotency-Key": key} if key else None
            return await client.request(method, path, json=body, headers=headers)

        async with asyncio.timeout(BURST_DEADLINE_SECONDS):
            burst = asyncio.gather(*(one(*request) for request in _requests()))
            health = asyncio.create_task(_probe_health(sandbox.url, burst))
            responses = await burst
            health_answers = await health

    statuses = Counter((response.request.method, response.status_code) for response in responses)
    assert statuses == {("GET", 200): READ_COUNT, ("POST", 201): 2 * (RESERVATION_KEYS + SUPPLIER_KEYS)}, statuses
    assert set(health_answers) == {200}
    _assert_each_create_took_effect_once(sandbox)


def _assert_each_create_took_effect_once(sandbox: RunningSandbox) -> None:
    with httpx.Client(base_url=sandbox.url, headers=sandbox.headers, timeout=10) as http:
        reservations = http.get("/inventory/reservations", params={"reference": "load-", "limit": 500}).json()
        per_reference = Counter(item["reference"] for item in reservations["items"])
        assert per_reference == {f"load-{n}": 1 for n in range(RESERVATION_KEYS)}
        for n in range(SUPPLIER_KEYS):
            tax_id = _supplier(n)[1]["tax_id"]["value"]
            assert http.get("/erp/suppliers", params={"tax_id": tax_id}).json()["total"] == 1, tax_id
