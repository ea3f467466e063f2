"""`GET /v1/events/schemas` and `GET /v1/events/schemas/{event_type}` on the real app (the router
added after every other one, so no earlier `/v1/events` route may shadow it), without a
credential: the index, a schema whose `$id` is the URL it is served at (the `dataschema` of an
event built with that base), and a 404 problem for an unknown type."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from jsonschema import Draft202012Validator

from domain.cloud_events import cloud_event, structured
from domain.event_catalog import EVENT_TYPES, cloud_event_schema
from domain.events import BusinessEvent
from runtime.settings import Settings
from starter.api.app import create_app
from store import Store

API = "http://api.test"
BASE = f"{API}/v1/events/schemas"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(state_dir=tmp_path)
    store = Store(settings.resolved_store_url)
    app = create_app(settings, store=store)
    app.state.store = store  # ASGITransport does not run the lifespan; the schemas need no Temporal
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=API) as http:
            yield http
    finally:
        store.close()


async def test_the_index_lists_every_type_with_its_schema_url(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events/schemas")
    assert response.status_code == 200, response.text
    assert "max-age" in response.headers["cache-control"]
    index = response.json()
    assert index["schema_base"] == BASE
    assert [entry["type"] for entry in index["types"]] == sorted(EVENT_TYPES)
    onboarded = next(entry for entry in index["types"] if entry["type"] == "supplier.onboarded")
    assert onboarded == {
        "type": "supplier.onboarded",
        "cloudevents_type": "org.supplybridge.supplier.onboarded",
        "description": EVENT_TYPES["supplier.onboarded"].description,
        "schema_url": f"{BASE}/supplier.onboarded",
    }
    for entry in index["types"]:
        served = await client.get(entry["schema_url"])
        assert served.status_code == 200 and served.json()["$id"] == entry["schema_url"]


async def test_a_schema_is_served_at_its_id_and_validates_the_events_that_name_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events/schemas/purchase_order.closed")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/schema+json"
    schema = response.json()
    assert schema == cloud_event_schema("purchase_order.closed", schema_base=BASE)
    event = BusinessEvent(
        event_id="purchase-order-PO-2026-000451:run-1:9:purchase_order.closed",
        type="purchase_order.closed",
        subject="PO-2026-000451",
        workflow_id="purchase-order-PO-2026-000451",
        occurred_at=datetime(2026, 3, 2, tzinfo=UTC),
        data={"supplier_id": "SUP-0001", "receipts": 2},
    )
    sent = json.loads(structured(cloud_event(event, source="urn:supplybridge:platform", sequence=77, schema_base=BASE)))
    assert schema["$id"] == f"{BASE}/purchase_order.closed"
    assert sent["dataschema"] == f"{BASE}/purchase_order.closed/data"
    data_response = await client.get("/v1/events/schemas/purchase_order.closed/data")
    assert data_response.status_code == 200 and data_response.json()["$id"] == sent["dataschema"]
    assert Draft202012Validator(data_response.json()).is_valid(sent["data"])
    assert list(Draft202012Validator(schema).iter_errors(sent)) == []
    sent["data"].pop("receipts")
    assert not Draft202012Validator(schema).is_valid(sent)


async def test_the_ids_follow_the_address_the_api_is_called_at(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path)
    store = Store(settings.resolved_store_url)
    app = create_app(settings, store=store)
    app.state.store = store
    public = "https://supplybridge.hospital.example"
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, root_path="/p2p"), base_url=public) as http:
            schema = (await http.get("/p2p/v1/events/schemas/invoice.approved")).json()
    finally:
        store.close()
    assert schema["$id"] == f"{public}/p2p/v1/events/schemas/invoice.approved"


async def test_an_unknown_type_is_a_404_problem_that_says_where_the_known_ones_are(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/events/schemas/supplier.retired")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "supplier.retired" in problem["detail"] and "GET /v1/events/schemas" in problem["detail"]
    assert problem["index"] == BASE


async def test_the_schemas_are_documented_as_public(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in ("/v1/events/schemas", "/v1/events/schemas/{event_type}"):
        operation = paths[path]["get"]
        assert "security" not in operation and "events" in operation["tags"]
    assert "application/schema+json" in paths["/v1/events/schemas/{event_type}"]["get"]["responses"]["200"]["content"]
