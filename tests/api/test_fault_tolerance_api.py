"""The API when things break: Temporal down is a 503 with Retry-After (and the key can be
retried), an Update that is not answered in time is a 202 with the run's Location (never a hang),
a claim left by an API killed mid-request is taken over after its lease, and a chunked body over
the limit is a 413. Temporal is replaced by small fakes, so each failure is exact and immediate."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from temporalio.service import RPCError, RPCStatusCode

import starter.operations.messages as messages
from domain.po_models import ReceiptRequest
from runtime.settings import Settings
from starter import operations as ops
from starter.api.app import create_app
from starter.api.guards import idempotent
from starter.api.security import CurrentPrincipal, issue_token
from store import Store
from tests.examples import example_json

PO = example_json("purchase-orders/po-northgate-gowns.json")
RECEIPT = {"line": 1, "quantity": "2", "uom": "CS"}


class FakeTemporal:
    """Starts answer with a handle (or raise `down`); Updates never answer (a system is down)."""

    def __init__(self, down: RPCError | None = None) -> None:
        self.down = down
        self.started: list[str] = []
        self.updates: list[str] = []

    async def start_workflow(self, *args: Any, id: str, **kwargs: Any) -> Any:
        if self.down:
            raise self.down
        self.started.append(id)
        return SimpleNamespace(id=id, result_run_id=f"{id}-run")

    def get_workflow_handle(self, workflow_id: str) -> Any:
        async def execute_update(update: Any, arg: Any) -> Any:
            if self.down:
                raise self.down
            self.updates.append(workflow_id)
            await asyncio.Event().wait()  # the run holds the Update while the ERP is down

        async def describe() -> Any:  # no history to read back: a start joins nothing
            raise self.down or RPCError("not found", RPCStatusCode.NOT_FOUND, b"")

        return SimpleNamespace(id=workflow_id, execute_update=execute_update, describe=describe)


@asynccontextmanager
async def api(
    tmp_path: Path, temporal: FakeTemporal, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    settings = Settings(state_dir=tmp_path, **overrides)
    store = Store(settings.resolved_store_url)
    app = create_app(settings, client=temporal, store=store)  # type: ignore[arg-type]
    app.state.temporal, app.state.store = temporal, store  # ASGITransport does not run the lifespan
    token, _ = issue_token(settings, "ana", ["procurement:write", "invoices:write"], ["*"])
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api", headers=headers
        ) as client:
            yield client, store
    finally:
        store.close()


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert "Traceback" not in response.text
    return body


async def test_temporal_down_is_503_with_retry_after_and_the_key_stays_usable(tmp_path: Path) -> None:
    temporal = FakeTemporal(down=RPCError("tcp connect error", RPCStatusCode.UNAVAILABLE, b""))
    async with api(tmp_path, temporal) as (client, _):
        key = {"Idempotency-Key": "po-451-down"}
        down = await client.post("/v1/purchase-orders", json=PO, headers=key)
        body = _problem(down, 503)
        assert int(down.headers["Retry-After"]) > 0 and "unavailable" in body["detail"]
        _problem(await client.post(f"/v1/purchase-orders/{PO['po_number']}/receipts", json=RECEIPT), 503)

        temporal.down = None  # Temporal is back: the same key runs the request, it is not stuck
        again = await client.post("/v1/purchase-orders", json=PO, headers=key)
        assert again.status_code == 202 and temporal.started == [f"purchase-order-{PO['po_number']}"]


async def test_an_update_not_answered_in_time_is_202_with_the_runs_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bound is in the operation every route calls (`ops.record_receipt`, `cancel`, decisions)
    and the 202 in the idempotency guard every POST goes through; a bare route shows both."""
    monkeypatch.setattr(messages, "UPDATE_WAIT_SECONDS", 0.2)
    temporal = FakeTemporal()
    with pytest.raises(ops.StillApplying, match="still being applied"):
        await ops.record_receipt(temporal, "PO-1", ReceiptRequest(line=1, quantity=Decimal(2)))  # type: ignore[arg-type]

    temporal.updates.clear()
    async with api(tmp_path, temporal) as (client, _):
        app = client._transport.app  # type: ignore[attr-defined]

        @app.post("/v1/test-receipts/{po_number}")
        async def receive(request: Request, po_number: str, principal: CurrentPrincipal) -> Response:
            async def run() -> JSONResponse:
                status = await ops.record_receipt(temporal, po_number, ReceiptRequest(line=1, quantity=Decimal(2)))  # type: ignore[arg-type]
                return JSONResponse(status.model_dump(mode="json"))

            return await idempotent(request, principal, run)

        key = {"Idempotency-Key": "receipt-1"}
        pending = await client.post("/v1/test-receipts/PO-1", json=RECEIPT, headers=key)
        assert pending.status_code == 202, pending.text
        assert pending.headers["Location"] == "/v1/runs/purchase-order-PO-1"
        assert "still being applied" in pending.json()["detail"]

        replay = await client.post("/v1/test-receipts/PO-1", json=RECEIPT, headers=key)  # never applied twice
        assert replay.status_code == 202 and replay.headers["Idempotent-Replayed"] == "true"
        assert temporal.updates == ["purchase-order-PO-1"]


def _fingerprint(path: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(b"POST" + path.encode() + b"\n" + canonical).hexdigest()


async def test_a_claim_left_by_a_killed_api_is_taken_over_after_its_lease(tmp_path: Path) -> None:
    temporal = FakeTemporal()
    async with api(tmp_path, temporal) as (client, store):
        # what an API killed mid-request leaves: an in-flight claim nobody will complete
        for key, lease in (("dead", timedelta(0)), ("alive", timedelta(minutes=1))):
            store.idempotency.claim(
                "jwt:ana", key, method="POST", path="/v1/purchase-orders",
                request_hash=_fingerprint("/v1/purchase-orders", PO), retention=timedelta(hours=1), lease=lease,
            )  # fmt: skip

        busy = await client.post("/v1/purchase-orders", json=PO, headers={"Idempotency-Key": "alive"})
        assert _problem(busy, 409) and 0 < int(busy.headers["Retry-After"]) <= 60

        retried = await client.post("/v1/purchase-orders", json=PO, headers={"Idempotency-Key": "dead"})
        assert retried.status_code == 202 and retried.json()["workflow_id"] == f"purchase-order-{PO['po_number']}"
        replay = await client.post("/v1/purchase-orders", json=PO, headers={"Idempotency-Key": "dead"})
        assert replay.headers["Idempotent-Replayed"] == "true" and replay.json() == retried.json()
        assert len(temporal.started) == 1


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterable[bytes]:
    yield b'{"x": "'
    for _ in range(total // size):
        yield b"a" * size
    yield b'"}'


async def test_a_chunked_body_over_the_limit_is_413(tmp_path: Path) -> None:
    async with api(tmp_path, FakeTemporal()) as (client, _):
        headers = {"Content-Type": "application/json"}
        huge = await client.post("/v1/purchase-orders", content=_chunks(5 * 1024 * 1024), headers=headers)
        assert "over" in _problem(huge, 413)["detail"]

        small = await client.post("/v1/purchase-orders", content=_chunks(0), headers=headers)
        assert small.status_code == 422  # read whole and handed on: the route says what is wrong with it


async def test_an_onboarding_request_with_three_problems_is_422_naming_all_three(tmp_path: Path) -> None:
    request = example_json("suppliers/new-supplier.json")
    request["contacts"][0]["email"] = "not-an-email"
    request["bank_account"]["routing_number"] = "021000022"
    request["credentialing"]["documents"] = request["credentialing"]["documents"][1:]
    async with api(tmp_path, FakeTemporal()) as (client, _):
        token, _ = issue_token(client._transport.app.state.settings, "ana", ["suppliers:write"], [])  # type: ignore[attr-defined]
        answer = await client.post(
            "/v1/suppliers/onboarding", json=request, headers={"Authorization": f"Bearer {token}"}
        )
    fields = {e["field"] for e in _problem(answer, 422)["errors"]}
    assert fields == {"body.contacts.0.email", "body.bank_account.routing_number", "body.credentialing.documents"}
