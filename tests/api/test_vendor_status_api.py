"""The API's vendor-status webhook: verified, validated, and turned into a status-sync run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from domain.status_sync import status_sync_workflow_id
from runtime.settings import Settings
from runtime.webhooks import SIGNATURE_HEADER, sign
from starter.api.app import create_app
from store import Store
from tests.support.harness import Harness

SECRET = "test-webhook-secret"


def event_body(vendor_id: str = "VM-100002", **changes: object) -> bytes:
    body = {
        "event_id": "evt-api-1",
        "type": "supplier.status_changed",
        "vendor_id": vendor_id,
        "erp_supplier_id": "SUP-0002",
        "status": "suspended",
        "reason": "insurance lapsed",
        "occurred_at": "2026-11-23T10:00:00Z",
        **changes,
    }
    return json.dumps(body).encode()


async def post(h: Harness, body: bytes, signature: str | None, tmp_path: Path) -> httpx.Response:
    settings = Settings(task_queue=h.task_queue, webhook_secret=SECRET, state_dir=tmp_path)
    with Store(settings.resolved_store_url) as store:  # events are audited
        app = create_app(settings, client=h.client, store=store)
        app.state.temporal, app.state.store = h.client, store  # ASGITransport does not run the lifespan
        headers = {"Content-Type": "application/json"} | ({SIGNATURE_HEADER: signature} if signature else {})
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            return await client.post("/v1/events/vendor-status", content=body, headers=headers)


async def test_signed_event_holds_the_erp_supplier(harness: Harness, tmp_path: Path) -> None:
    body = event_body()
    response = await post(harness, body, sign(SECRET, body), tmp_path)
    assert response.status_code == 202
    assert response.json()["workflow_id"] == status_sync_workflow_id("VM-100002")
    deadline = time.monotonic() + 10
    while harness.systems.erp.suppliers["SUP-0002"].status.value != "on_hold":
        assert time.monotonic() < deadline
        await harness.env.sleep(0.1)


async def test_unsigned_or_tampered_events_are_refused(harness: Harness, tmp_path: Path) -> None:
    body = event_body()
    assert (await post(harness, body, None, tmp_path)).status_code == 401
    tampered = await post(harness, event_body(status="reinstated"), sign(SECRET, body), tmp_path)
    assert tampered.status_code == 401
    assert tampered.headers["content-type"].startswith("application/problem+json")


async def test_invalid_event_names_the_field(harness: Harness, tmp_path: Path) -> None:
    body = event_body(status="on_vacation")
    response = await post(harness, body, sign(SECRET, body), tmp_path)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"
