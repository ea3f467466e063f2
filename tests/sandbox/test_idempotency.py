"""Idempotency-Key semantics of the sandbox, modelled on the IETF draft "The Idempotency-Key HTTP
Header Field" (and Stripe's practice): only a complete request that reached its route claims its
key; the same key with the same body replays the stored answer; another body is 422; a duplicate
arriving while the first is still running waits for it (or gets 409 when it runs too long)."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.db import SandboxDatabase
from sandbox.idempotency import IdempotencyMiddleware
from tests.support.sandbox import RunningSandbox

DRAFT = {
    "legal_name": "Harborview Medical Supply LLC",
    "tax_id": {"kind": "EIN", "value": "61-2345678"},
    "payment_terms": "NET30",
}
SUPPLIERS = "/erp/suppliers"


def _keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def _suppliers_with_tax_id(http: httpx.Client, tax_id: str) -> int:
    total: int = http.get(SUPPLIERS, params={"tax_id": tax_id}).json()["total"]
    return total


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"", "application/json"),
        (b'{"legal_name": "Harborview', "application/json"),
        (json.dumps({**DRAFT, "tax_id": {"kind": "XYZ", "value": "1"}}).encode(), "application/json"),
    ],
    ids=["empty-body", "unparsable-body", "invalid-body"],
)
def test_a_request_that_fails_validation_does_not_claim_its_key(
    http: httpx.Client, content: bytes, content_type: str
) -> None:
    refused = http.post(SUPPLIERS, content=content, headers={**_keyed("k-invalid"), "Content-Type": content_type})
    honest_retry = http.post(SUPPLIERS, json=DRAFT, headers=_keyed("k-invalid"))

    assert (refused.status_code, refused.json()["code"]) == (422, "validation_error")
    assert "Idempotent-Replayed" not in refused.headers
    assert honest_retry.status_code == 201, honest_retry.text
    assert "Idempotent-Replayed" not in honest_retry.headers
    assert _suppliers_with_tax_id(http, "61-2345678") == 1


def test_same_key_same_body_replays_and_another_body_is_refused(http: httpx.Client) -> None:
    first = http.post(SUPPLIERS, json=DRAFT, headers=_keyed("k-replay"))
    same_body_other_key_order = http.post(
        SUPPLIERS, content=json.dumps(dict(reversed(DRAFT.items()))), headers=_keyed("k-replay")
    )
    other_body = http.post(SUPPLIERS, json={**DRAFT, "legal_name": "Another Name LLC"}, headers=_keyed("k-replay"))

    assert first.status_code == 201
    assert (same_body_other_key_order.status_code, same_body_other_key_order.content) == (201, first.content)
    assert same_body_other_key_order.headers["Idempotent-Replayed"] == "true"
    assert (other_body.status_code, other_body.json()["code"]) == (422, "idempotency_key_reused")
    assert _suppliers_with_tax_id(http, "61-2345678") == 1


def test_a_refusal_by_the_system_itself_is_an_answer_and_is_replayed(http: httpx.Client) -> None:
    assert http.post(SUPPLIERS, json=DRAFT, headers=_keyed("k-first")).status_code == 201

    duplicate = http.post(SUPPLIERS, json=DRAFT, headers=_keyed("k-second"))
    again = http.post(SUPPLIERS, json=DRAFT, headers=_keyed("k-second"))

    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "duplicate_tax_id")
    assert (again.status_code, again.content) == (409, duplicate.content)
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_request_aborted_mid_body_over_tcp_leaves_no_trace(sandbox: RunningSandbox, http: httpx.Client) -> None:
    body = json.dumps(DRAFT).encode()
    address = urlsplit(sandbox.url)
    head = (
        f"POST {SUPPLIERS} HTTP/1.1\r\nHost: {address.netloc}\r\nAuthorization: Bearer {sandbox.token}\r\n"
        f"Content-Type: application/json\r\nIdempotency-Key: k-aborted\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=5) as killed_client:
        killed_client.sendall(head.encode() + body[: len(body) // 2])

    honest_retry = http.post(SUPPLIERS, json=DRAFT, headers=_keyed("k-aborted"))

    assert honest_retry.status_code == 201, honest_retry.text
    assert _suppliers_with_tax_id(http, "61-2345678") == 1


async def test_a_request_whose_client_disconnected_mid_body_is_neither_run_nor_stored(tmp_path: Path) -> None:
    app = create_app(SandboxConfig(database_url=f"sqlite:///{tmp_path / 'sandbox.sqlite'}"))
    body = json.dumps(DRAFT).encode()
    arrivals: list[Message] = [
        {"type": "http.request", "body": body[:10], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return arrivals.pop(0) if arrivals else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = _http_scope("POST", SUPPLIERS, [(b"idempotency-key", b"k-gone"), (b"content-type", b"application/json")])
    try:
        await app(scope, receive, send)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as client:
            retry = await client.post(SUPPLIERS, json=DRAFT, headers=_keyed("k-gone"))
            found = (await client.get(SUPPLIERS, params={"tax_id": "61-2345678"})).json()
    finally:
        app.state.database.dispose()

    assert sent == []  # nobody to answer, and nothing was run
    assert retry.status_code == 201, retry.text
    assert found["total"] == 1


async def test_a_duplicate_waits_for_the_one_in_flight_or_gets_409(tmp_path: Path) -> None:
    database = SandboxDatabase(f"sqlite:///{tmp_path / 'idempotency.sqlite'}")
    database.create_schema()
    release = asyncio.Event()
    runs: list[bytes] = []

    async def slow_route(scope: Scope, receive: Receive, send: Send) -> None:
        runs.append((await receive())["body"])
        await release.wait()
        await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"done": true}'})

    middleware = IdempotencyMiddleware(slow_route, database=database, in_flight_wait_seconds=0.2)
    try:
        async with _client(middleware) as client:
            first = asyncio.create_task(client.post("/erp/things", json={"a": 1}, headers=_keyed("k-slow")))
            async with asyncio.timeout(5):
                while not runs:  # poll until the first has claimed its key and is running
                    await asyncio.sleep(0)
            too_early = await client.post("/erp/things", json={"a": 1}, headers=_keyed("k-slow"))
            waiting = asyncio.create_task(client.post("/erp/things", json={"a": 1}, headers=_keyed("k-slow")))
            release.set()
            original, replayed = await first, await waiting
    finally:
        database.dispose()

    assert (too_early.status_code, too_early.json()["code"]) == (409, "idempotency_key_in_flight")
    assert "Retry-After" in too_early.headers
    assert (original.status_code, replayed.status_code) == (201, 201)
    assert replayed.content == original.content and replayed.headers["Idempotent-Replayed"] == "true"
    assert len(runs) == 1


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox", timeout=10)


def _http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"sandbox"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("sandbox", 80),
    }
