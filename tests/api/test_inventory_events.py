"""The inventory's `stock.below_reorder_point` webhook and the replenishment reads, over a dev
server (the list is a visibility query) with a worker over fakes: a signed breach starts the
location and item's replenishment, a second joins it, a replay is `duplicate`; only the
inventory system may send breaches; the runs are read with the purchase orders' read scope.

The fakes hold a breached balance of an item no contract prices, so the run stops at a sourcing
exception for purchasing and stays open while the test reads it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.replenishment_models import ReplenishmentStatus, replenishment_workflow_id
from domain.system_records import InventoryBalance
from runtime.settings import ApiGrant, Settings
from runtime.webhooks import SIGNATURE_HEADER, sign
from starter.api.app import create_app
from starter.api.security import issue_token, sha256_hex
from starter.operations.replenishments import replenishment_status
from store import Store
from tests.api import test_api_v1
from tests.support.api import in_process_api, problem_of
from tests.support.harness import Harness, Systems, seeded_systems

harness = test_api_v1.harness  # a dev server (visibility) and a worker over fakes
SECRET = "test-webhook-secret-for-inventory"
INVENTORY_KEY = "sbk_inventory_bridge_key"
LOCATION, ITEM = "LOC-CS-01", "ITM-1001"
WORKFLOW_ID = replenishment_workflow_id(LOCATION, ITEM)


@pytest.fixture
def systems() -> Systems:
    systems = seeded_systems()  # no contract prices ITM-1001: a sourcing exception
    systems.inventory.set_balance(InventoryBalance(location_id=LOCATION, item_id=ITEM, uom="CS", on_hand=Decimal(3),
                                                   par=Decimal(40), reorder_point=Decimal(12)))  # fmt: skip
    return systems


@asynccontextmanager
async def api(h: Harness, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, Store]]:
    inventory_bridge = ApiGrant(subject="inventory-bridge", secret_sha256=sha256_hex(INVENTORY_KEY),
                                scopes=["events:write"], systems=["inventory"])  # fmt: skip
    settings = Settings(task_queue=h.task_queue, state_dir=tmp_path, webhook_secret=SECRET, api_keys=[inventory_bridge])
    async with in_process_api(h, settings) as (client, store):
        yield client, settings, store


def breach(event_id: str = "INV-EVT-000001", **changes: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": "stock.below_reorder_point", "location_id": LOCATION, "item_id": ITEM,
            "uom": "CS", "on_hand": "3", "reorder_point": "12", "par": "40", "occurred_at": "2026-11-24T10:00:00Z",
            **changes}  # fmt: skip


def signed(body: dict[str, Any], secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, raw)}


def bearer(settings: Settings, subject: str, scopes: list[str], **claims: Any) -> dict[str, str]:
    token, _ = issue_token(settings, subject, scopes, claims.pop("teams", []), **claims)
    return {"Authorization": f"Bearer {token}"}


async def run_until(h: Harness, predicate: Callable[[ReplenishmentStatus], bool]) -> ReplenishmentStatus:
    """The replenishment's status once `predicate` holds (deadline, no fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        status = await replenishment_status(h.client, LOCATION, ITEM)
        if status is not None and predicate(status):
            return status
        assert asyncio.get_running_loop().time() < deadline, f"not reached; last {status}"
        await asyncio.sleep(0.05)


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], predicate: Callable[[list[Any]], bool], **params: Any
) -> list[Any]:
    """`GET /v1/replenishments` once `predicate(items)` holds: visibility follows a run's state
    shortly after it changes."""
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        response = await client.get("/v1/replenishments", params=params, headers=headers)
        assert response.status_code == 200, response.text
        items: list[Any] = response.json()["items"]
        if predicate(items):
            return items
        assert asyncio.get_running_loop().time() < deadline, f"not listed as expected; last {items}"
        await asyncio.sleep(0.05)


async def test_a_signed_breach_starts_the_run_the_next_joins_it_and_a_replay_is_a_duplicate(
    harness: Harness, tmp_path: Path
) -> None:
    async with api(harness, tmp_path) as (client, _, store):
        raw, headers = signed(breach())
        first = await client.post("/v1/events/inventory", content=raw, headers=headers)
        assert first.status_code == 202, first.text
        assert first.json() == {"workflow_id": WORKFLOW_ID, "event_id": "INV-EVT-000001", "delivered": True,
                                "duplicate": False}  # fmt: skip
        started = await run_until(harness, lambda s: s.open_exception is not None)
        assert started.breaches == 1 and started.open_exception is not None
        assert started.open_exception.kind == "sourcing_exception" and started.open_exception.team == "purchasing"

        raw, headers = signed(breach("INV-EVT-000002", on_hand="2"))
        joined = await client.post("/v1/events/inventory", content=raw, headers=headers)
        assert joined.status_code == 202 and joined.json()["workflow_id"] == WORKFLOW_ID
        status = await run_until(harness, lambda s: s.breaches == 2)
        assert status.workflow_id == WORKFLOW_ID and status.last_breach is not None
        assert status.last_breach.event_id == "INV-EVT-000002" and status.last_breach.on_hand == Decimal(2)

        replay = await client.post("/v1/events/inventory", content=raw, headers=headers)
        assert replay.status_code == 200, replay.text
        assert replay.json() == {"workflow_id": WORKFLOW_ID, "event_id": "INV-EVT-000002", "delivered": False,
                                 "duplicate": True}  # fmt: skip
        assert (await run_until(harness, lambda s: True)).breaches == 2
        trail = store.audit.query(record_type="item", record_id=ITEM)
        assert [(e.actor, e.action, e.outcome) for e in trail] == [
            ("inventory", "event.stock_breach", "delivered"),
            ("inventory", "event.stock_breach", "delivered"),
            ("inventory", "event.stock_breach", "duplicate"),
        ]
        assert trail[0].details["workflow_id"] == WORKFLOW_ID and trail[0].details["via"] == "webhook"


async def test_only_the_inventory_system_sends_breaches_and_bodies_are_checked(
    harness: Harness, tmp_path: Path
) -> None:
    async with api(harness, tmp_path) as (client, settings, store):
        raw, headers = signed(breach(), secret="not-the-shared-secret")
        assert "signature" in problem_of(await client.post("/v1/events/inventory", content=raw, headers=headers),
                                         401)["title"].lower()  # fmt: skip
        unsigned = await client.post("/v1/events/inventory", json=breach())
        problem_of(unsigned, 401)

        erp = bearer(settings, "erp-bridge", ["events:write"], systems=["erp"])
        refused = problem_of(await client.post("/v1/events/inventory", json=breach(), headers=erp), 403)
        assert "inventory" in refused["detail"]
        partner = bearer(settings, "northgate", ["events:write"], suppliers=["SUP-0002"])
        problem_of(await client.post("/v1/events/inventory", json=breach(), headers=partner), 403)
        no_scope = bearer(settings, "reader", ["procurement:read"], systems=["inventory"])
        problem_of(await client.post("/v1/events/inventory", json=breach(), headers=no_scope), 403)

        raw, headers = signed(breach(on_hand="plenty", uom="cases"))
        invalid = problem_of(await client.post("/v1/events/inventory", content=raw, headers=headers), 422)
        assert {e["field"] for e in invalid["errors"]} == {"on_hand", "uom"}
        raw, headers = signed({k: v for k, v in breach().items() if k != "item_id"})
        missing = problem_of(await client.post("/v1/events/inventory", content=raw, headers=headers), 422)
        assert [e["field"] for e in missing["errors"]] == ["item_id"]
        assert await replenishment_status(harness.client, LOCATION, ITEM) is None  # nothing refused was delivered

        bridge = await client.post("/v1/events/inventory", json=breach(), headers={"X-API-Key": INVENTORY_KEY})
        assert bridge.status_code == 202 and bridge.json()["workflow_id"] == WORKFLOW_ID, bridge.text
        token = bearer(settings, "inventory-token", ["events:write"], systems=["inventory"])
        again = await client.post("/v1/events/inventory", json=breach("INV-EVT-000009"), headers=token)
        assert again.status_code == 202, again.text
        assert (await run_until(harness, lambda s: s.breaches == 2)).workflow_id == WORKFLOW_ID

        outcomes = [(e.actor, e.outcome, e.details.get("status")) for e in store.audit.query(record_id=ITEM)]
        assert ("erp-bridge", "refused", 403) in outcomes and ("northgate", "refused", 403) in outcomes
        assert ("inventory", "refused", 422) in outcomes
        assert {("inventory-bridge", "delivered", None), ("inventory-token", "delivered", None)} <= set(outcomes)


async def test_replenishments_are_read_with_the_purchase_orders_read_scope(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, _):
        purchasing = bearer(settings, "pia", ["procurement:read"], teams=["purchasing"])
        none_yet = problem_of(await client.get(f"/v1/replenishments/{LOCATION}/{ITEM}", headers=purchasing), 404)
        assert ITEM in none_yet["detail"] and LOCATION in none_yet["detail"]
        raw, headers = signed(breach())
        assert (await client.post("/v1/events/inventory", content=raw, headers=headers)).status_code == 202
        await run_until(harness, lambda s: s.open_exception is not None)  # the stage comes a step before the task

        shown = await client.get(f"/v1/replenishments/{LOCATION}/{ITEM}", headers=purchasing)
        assert shown.status_code == 200, shown.text
        run = shown.json()
        assert run["workflow_id"] == WORKFLOW_ID and run["stage"] == "awaiting_sourcing_decision"
        assert run["open_exception"]["allowed_actions"] == ["order_from", "dismiss"] and run["breaches"] == 1

        writer = bearer(settings, "buyer", ["procurement:write"], teams=["*"])  # the write scope implies the read
        running = await listed(client, writer, lambda items: len(items) > 0, open="true", limit=10)
        assert [r["workflow_id"] for r in running] == [WORKFLOW_ID]

        lacking = bearer(settings, "clerk", ["invoices:read"], teams=["*"])
        assert problem_of(await client.get("/v1/replenishments", headers=lacking), 403)["scope"] == "procurement:read"
        receiving = bearer(settings, "rio", ["procurement:read"], teams=["receiving"])
        problem_of(await client.get(f"/v1/replenishments/{LOCATION}/{ITEM}", headers=receiving), 404)
        assert (await client.get("/v1/replenishments", headers=receiving)).json() == {"items": []}
        partner = bearer(settings, "northgate", ["procurement:read"], suppliers=["SUP-0002"])
        problem_of(await client.get(f"/v1/replenishments/{LOCATION}/{ITEM}", headers=partner), 404)
        problem_of(await client.get("/v1/replenishments", params={"limit": 0}, headers=writer), 422)
        problem_of(await client.get("/v1/replenishments/LOC%20X/ITM-1", headers=writer), 422)

        decider = bearer(settings, "pia", ["tasks:decide"], teams=["purchasing"])
        dismiss = {"action": "dismiss", "reason": "stocked from the other store"}
        decided = await client.post(f"/v1/tasks/{WORKFLOW_ID}/decision", headers=decider, json=dismiss)
        assert decided.status_code == 200, decided.text
        await run_until(harness, lambda s: s.outcome == "dismissed")
        await listed(client, writer, lambda items: items == [], open="true")
        every = await listed(client, writer, lambda items: all(r["outcome"] for r in items))
        assert [(r["workflow_id"], r["outcome"]) for r in every] == [(WORKFLOW_ID, "dismissed")]


def test_the_openapi_document_describes_the_breach_body_as_accepted() -> None:
    document = create_app(Settings()).openapi()
    body = document["paths"]["/v1/events/inventory"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    accepted = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert {"type": "number"} in accepted["properties"]["on_hand"]["anyOf"]  # not the response's string form
    assert set(accepted["required"]) >= {"event_id", "location_id", "item_id", "uom", "on_hand", "occurred_at"}
    for path in ("/v1/replenishments", "/v1/replenishments/{location_id}/{item_id}"):
        assert {"200", "401", "403", "404", "422"} <= set(document["paths"][path]["get"]["responses"])
