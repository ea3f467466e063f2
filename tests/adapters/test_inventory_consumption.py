"""Consumption at the sandbox inventory, the signed `stock.below_reorder_point` webhooks it raises,
the switchable inventory webhook target, on-order quantities and the below-reorder-point listing,
through `HttpInventory` and the raw HTTP API.

Seed balances used (sandbox/seed/inventory.json): LOC-CS-01/ITM-1001 14 CS (reorder point 12,
par 40; the item master has BX = 1/10 CS, no EA), LOC-OR-02/ITM-1002 6 CS (reorder point 5;
CS = 30 EA), and LOC-CS-01/ITM-1005 3 CS with reorder point 4, the only seed balance already
below its reorder point.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.errors import BusinessRuleError, NotFoundError
from adapters.http import SystemClient
from adapters.inventory_http import HttpInventory
from domain.replenishment_models import StockBreach
from domain.system_records import InventoryBalance, ReservationRequest
from runtime.webhooks import verify
from tests.support.procurement_fakes import FakeInventory
from tests.support.sandbox import RunningSandbox
from tests.support.webhooks import webhook_receiver

SECRET = "inventory-receiver-secret"


@pytest.fixture
async def inventory_client(sandbox: RunningSandbox) -> AsyncIterator[SystemClient]:
    async with SystemClient(
        "inventory", sandbox.system_url("inventory"), token=sandbox.token, timeout=5.0, attempts=1
    ) as client:
        yield client


@pytest.fixture
def inventory(inventory_client: SystemClient) -> HttpInventory:
    return HttpInventory(inventory_client)


@pytest.fixture
def http(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers=sandbox.headers, timeout=10) as client:
        yield client


@pytest.fixture(autouse=True)
def inventory_target_restored(sandbox: RunningSandbox) -> Iterator[None]:
    """A reset keeps webhook targets: put the inventory one back as the sandbox started with it."""
    yield
    sandbox.admin("PUT", "/inventory/admin/webhook", {"url": None, "secret": sandbox.config.webhook_secret})


def point_inventory_webhooks_at(sandbox: RunningSandbox, url: str | None) -> dict[str, Any]:
    answer: dict[str, Any] = sandbox.admin("PUT", "/inventory/admin/webhook", {"url": url, "secret": SECRET})
    return answer


async def balance(inventory: HttpInventory, location_id: str, item_id: str) -> InventoryBalance:
    [found] = await inventory.get_balances(location_id, [item_id])
    return found


async def events(client: SystemClient) -> list[dict[str, Any]]:
    page = await client.request("GET", "/events")
    items: list[dict[str, Any]] = page["items"]
    return items


async def wait_for_event(
    client: SystemClient, event_id: str, condition: Callable[[dict[str, Any]], bool], *, timeout: float = 5.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = next(e for e in await events(client) if e["event_id"] == event_id)
        if condition(event):
            return event
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{event_id} did not reach the expected delivery state within {timeout}s")


def delivered(event: dict[str, Any]) -> bool:
    return bool(event["delivery"]["status"] == "delivered")


# --- consumption ---------------------------------------------------------------------------------


async def test_consumption_takes_stock_off_in_the_balance_unit(
    inventory: HttpInventory, inventory_client: SystemClient
) -> None:
    first = await inventory.consume("LOC-CS-01", "ITM-1001", Decimal(1), reference="cart-7")
    assert first["balance"]["on_hand"] == "13" and first["balance"]["uom"] == "CS"
    assert (first["breached"], first["event_id"]) == (False, None)

    converted = await inventory.consume("LOC-CS-01", "ITM-1001", Decimal("5"), uom="BX")  # 5 BX = 0.5 CS
    assert Decimal(converted["balance"]["on_hand"]) == Decimal("12.5")
    assert (await balance(inventory, "LOC-CS-01", "ITM-1001")).on_hand == Decimal("12.5")

    listed = await inventory_client.request("GET", "/consumption", params={"item_id": "ITM-1001"})
    assert [(c["quantity"], c["uom"], c["balance_quantity"], c["reference"]) for c in listed["items"]] == [
        ("1", "CS", "1", "cart-7"),
        ("5", "BX", "0.5", None),
    ]
    assert [c["consumption_id"] for c in listed["items"]] == [first["consumption_id"], converted["consumption_id"]]


async def test_a_quantity_may_be_a_number_or_a_string(http: httpx.Client) -> None:
    for quantity in (2, "1.5", 0.5):
        answer = http.post(
            "/inventory/consumption", json={"location_id": "LOC-PH-03", "item_id": "ITM-1004", "quantity": quantity}
        )
        assert answer.status_code == 201, answer.text
    assert Decimal(answer.json()["balance"]["on_hand"]) == Decimal(26)  # 30 - 2 - 1.5 - 0.5


async def test_an_unknown_balance_is_not_found_naming_location_and_item(inventory: HttpInventory) -> None:
    with pytest.raises(NotFoundError) as unknown:
        await inventory.consume("LOC-PH-03", "ITM-1001", Decimal(1))
    assert "LOC-PH-03" in unknown.value.message and "ITM-1001" in unknown.value.message


async def test_a_unit_the_item_master_cannot_convert_is_refused(inventory: HttpInventory) -> None:
    with pytest.raises(BusinessRuleError) as mismatch:
        await inventory.consume("LOC-CS-01", "ITM-1001", Decimal(1), uom="EA")  # ITM-1001 comes in BX and CS
    assert (mismatch.value.status, mismatch.value.code) == (422, "uom_mismatch")
    assert "uom" in mismatch.value.message
    assert (await balance(inventory, "LOC-CS-01", "ITM-1001")).on_hand == 14


async def test_more_than_on_hand_is_refused_and_changes_nothing(
    inventory: HttpInventory, inventory_client: SystemClient
) -> None:
    with pytest.raises(BusinessRuleError) as too_much:
        await inventory.consume("LOC-OR-02", "ITM-1002", Decimal(181), uom="EA")  # 6 CS are 180 EA
    assert (too_much.value.status, too_much.value.code) == (409, "insufficient_stock")
    assert "quantity" in too_much.value.message and "on_hand 6" in too_much.value.message

    assert (await balance(inventory, "LOC-OR-02", "ITM-1002")).on_hand == 6
    assert await events(inventory_client) == []
    assert (await inventory_client.request("GET", "/consumption"))["items"] == []

    everything = await inventory.consume("LOC-OR-02", "ITM-1002", Decimal(180), uom="EA")
    assert Decimal(everything["balance"]["on_hand"]) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": "0"}, "body.quantity"),
        ({"quantity": -1}, "body.quantity"),
        ({"quantity": "many"}, "body.quantity"),
        ({"uom": "cases!"}, "body.uom"),
        ({"location_id": ""}, "body.location_id"),
        ({"surprise": 1}, "body.surprise"),
    ],
)
def test_an_invalid_request_is_refused_naming_the_field(http: httpx.Client, body: dict[str, Any], field: str) -> None:
    request = {"location_id": "LOC-CS-01", "item_id": "ITM-1001", "quantity": "1", **body}
    answer = http.post("/inventory/consumption", json=request)
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error" and field in answer.json()["detail"]


async def test_a_retried_consumption_with_the_same_key_consumes_once(
    inventory: HttpInventory, http: httpx.Client
) -> None:
    body = {"location_id": "LOC-CS-01", "item_id": "ITM-1001", "quantity": "3", "reference": "scan-1"}
    first = http.post("/inventory/consumption", json=body, headers={"Idempotency-Key": "scan-1"})
    again = http.post("/inventory/consumption", json=body, headers={"Idempotency-Key": "scan-1"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    assert (await balance(inventory, "LOC-CS-01", "ITM-1001")).on_hand == 11

    by_adapter = await inventory.consume("LOC-CS-01", "ITM-1001", Decimal(1), idempotency_key="scan-2")
    assert await inventory.consume("LOC-CS-01", "ITM-1001", Decimal(1), idempotency_key="scan-2") == by_adapter
    assert (await balance(inventory, "LOC-CS-01", "ITM-1001")).on_hand == 10


# --- breach events and the webhook target ------------------------------------------------------


def assert_signed_breach(webhook_body: bytes, headers: dict[str, str], event_id: str) -> StockBreach:
    assert verify(SECRET, webhook_body, headers["x-supplybridge-signature"]) is None
    assert headers["x-supplybridge-event-id"] == event_id
    assert set(json.loads(webhook_body)) == set(StockBreach.model_fields)
    return StockBreach.model_validate_json(webhook_body)


async def test_a_consumption_reaching_the_reorder_point_sends_a_signed_breach(
    sandbox: RunningSandbox, inventory: HttpInventory, inventory_client: SystemClient
) -> None:
    with webhook_receiver() as receiver:
        point_inventory_webhooks_at(sandbox, receiver.url)

        above = await inventory.consume("LOC-OR-02", "ITM-1002", Decimal(15), uom="EA")  # 5.5 CS, above 5
        reached = await inventory.consume("LOC-OR-02", "ITM-1002", Decimal(15), uom="EA")  # 5 CS: at the point

        assert above["breached"] is False and reached["breached"] is True
        assert reached["event_id"].startswith("INV-EVT-")
        [webhook] = receiver.wait_for(lambda received: len(received) == 1)
        breach = assert_signed_breach(webhook.body, webhook.headers, reached["event_id"])
        assert (breach.location_id, breach.item_id, breach.uom, breach.source) == (
            "LOC-OR-02",
            "ITM-1002",
            "CS",
            "inventory",
        )
        assert (breach.on_hand, breach.reorder_point, breach.par) == (5, 5, 20)
        event = await wait_for_event(inventory_client, reached["event_id"], delivered)
        assert (event["type"], event["delivery"]["attempts"]) == ("stock.below_reorder_point", 1)


async def test_every_consumption_below_the_point_raises_its_own_event(
    sandbox: RunningSandbox, inventory: HttpInventory
) -> None:
    with webhook_receiver() as receiver:
        point_inventory_webhooks_at(sandbox, receiver.url)
        first = await inventory.consume("LOC-CS-01", "ITM-1001", Decimal(2))  # 12 CS: at the point
        second = await inventory.consume("LOC-CS-01", "ITM-1001", Decimal(1), uom="BX")  # 11.9 CS

        received = receiver.wait_for(lambda received: len(received) == 2)
        assert first["event_id"] != second["event_id"]
        ids = sorted(webhook.headers["x-supplybridge-event-id"] for webhook in received)
        assert ids == sorted([first["event_id"], second["event_id"]])
        on_hand = {StockBreach.model_validate_json(webhook.body).on_hand for webhook in received}
        assert on_hand == {Decimal(12), Decimal("11.9")}


async def test_a_breach_in_a_fraction_of_the_balance_unit_carries_four_places(
    inventory: HttpInventory, inventory_client: SystemClient
) -> None:
    answer = await inventory.consume("LOC-OR-02", "ITM-1002", Decimal(31), uom="EA")  # 6 - 31/30 CS

    assert Decimal(answer["balance"]["on_hand"]).quantize(Decimal("0.0001")) == Decimal("4.9667")
    [event] = await events(inventory_client)
    breach = StockBreach.model_validate({k: v for k, v in event.items() if k != "delivery"})
    assert (breach.event_id, breach.on_hand, breach.reorder_point) == (answer["event_id"], Decimal("4.9667"), 5)


async def test_a_switched_off_target_keeps_events_pending_until_switched_on(
    sandbox: RunningSandbox, inventory: HttpInventory, inventory_client: SystemClient
) -> None:
    with webhook_receiver() as receiver:
        switched_off = point_inventory_webhooks_at(sandbox, None)
        assert switched_off == {"url": None, "secret_configured": True}

        breach = await inventory.consume("LOC-CS-01", "ITM-1005", Decimal(1))  # already below: 2 CS
        attempted = await wait_for_event(
            inventory_client, breach["event_id"], lambda e: e["delivery"]["last_error"] is not None
        )
        assert attempted["delivery"]["status"] == "pending"
        assert attempted["delivery"]["last_error"] == "no webhook URL configured"
        assert receiver.received == []

        switched_on = point_inventory_webhooks_at(sandbox, receiver.url)
        assert switched_on == {"url": receiver.url, "secret_configured": True}
        assert sandbox.admin("GET", "/inventory/admin/webhook") == switched_on
        [webhook] = receiver.wait_for(lambda received: len(received) == 1)
        assert assert_signed_breach(webhook.body, webhook.headers, breach["event_id"]).on_hand == 2
        await wait_for_event(inventory_client, breach["event_id"], delivered)


async def test_the_inventory_target_is_its_own(sandbox: RunningSandbox) -> None:
    """Switching inventory's target leaves vendor management's and the vendor channel's alone."""
    vendor_management = sandbox.admin("GET", "/vendor-management/admin/webhook")
    vendor_channel = sandbox.admin("GET", "/vendor-channel/admin/webhook")
    with webhook_receiver() as receiver:
        point_inventory_webhooks_at(sandbox, receiver.url)
        assert sandbox.admin("GET", "/vendor-management/admin/webhook") == vendor_management
        assert sandbox.admin("GET", "/vendor-channel/admin/webhook") == vendor_channel
        assert sandbox.admin("GET", "/inventory/admin/webhook")["url"] == receiver.url


def test_a_webhook_url_must_be_http(http: httpx.Client) -> None:
    answer = http.put("/inventory/admin/webhook", json={"url": "ftp://example.test/x"})
    assert answer.status_code == 422 and "body.url" in answer.json()["detail"]


# --- on order, in transit and the below-reorder-point listing ----------------------------------


async def test_on_order_follows_the_open_reservations(inventory: HttpInventory, http: httpx.Client) -> None:
    reservation = await inventory.reserve(
        ReservationRequest(
            location_id="LOC-OR-02", item_id="ITM-1002", quantity=Decimal(90), uom="EA", reference="P/1"
        ),
        idempotency_key="rsv",
    )
    ordered = await balance(inventory, "LOC-OR-02", "ITM-1002")
    assert (ordered.on_order, ordered.reserved, ordered.in_transit) == (3, 3, 0)  # 90 EA are 3 CS

    await inventory.fulfil(reservation.reservation_id, Decimal(1), "CS", idempotency_key="f1")
    part = await balance(inventory, "LOC-OR-02", "ITM-1002")
    assert (part.on_hand, part.on_order) == (7, 2)

    await inventory.release(reservation.reservation_id, idempotency_key="rel")
    released = await balance(inventory, "LOC-OR-02", "ITM-1002")
    assert (released.on_hand, released.on_order) == (7, 0)

    raw = http.get("/inventory/balances", params={"location_id": "LOC-OR-02", "item_id": "ITM-1002"}).json()
    [shown] = raw["items"]
    assert (shown["on_hand"], shown["on_order"], shown["reserved"], shown["in_transit"]) == ("7", "0", "0", "0")


async def test_below_reorder_point_lists_every_breached_balance_and_pages(
    inventory: HttpInventory, http: httpx.Client
) -> None:
    seeded = await inventory.below_reorder_point()
    assert [(b.location_id, b.item_id) for b in seeded] == [("LOC-CS-01", "ITM-1005")]

    await inventory.reserve(  # a new balance with nothing on hand and no reorder point: never listed
        ReservationRequest(location_id="LOC-XX-09", item_id="ITM-1006", quantity=Decimal(1), uom="EA", reference="P"),
        idempotency_key="rsv-new",
    )
    await inventory.consume("LOC-OR-02", "ITM-1002", Decimal(1))  # 5 CS: at its reorder point
    breached = await inventory.below_reorder_point()
    assert {(b.location_id, b.item_id) for b in breached} == {("LOC-CS-01", "ITM-1005"), ("LOC-OR-02", "ITM-1002")}
    assert all(b.reorder_point is not None and b.on_hand <= b.reorder_point for b in breached)

    first_page = http.get("/inventory/balances", params={"below_reorder_point": "true", "limit": 1}).json()
    assert (len(first_page["items"]), first_page["total"], first_page["has_more"]) == (1, 2, True)
    everything = http.get("/inventory/balances").json()
    assert everything["total"] == 7  # six seeded and the new one


async def test_the_fake_inventory_lists_the_balances_below_their_reorder_point() -> None:
    fake = FakeInventory()
    low = fake.set_balance(
        InventoryBalance(location_id="L", item_id="A", uom="CS", on_hand=Decimal(4), reorder_point=Decimal(4))
    )
    fake.set_balance(InventoryBalance(location_id="L", item_id="B", uom="CS", on_hand=Decimal(5), reorder_point=4))
    fake.set_balance(InventoryBalance(location_id="L", item_id="C", uom="CS", on_hand=Decimal(0)))

    assert await fake.below_reorder_point() == [low]
    assert await fake.get_balances("L", ["A", "Z"]) == [
        low,
        InventoryBalance(location_id="L", item_id="Z", uom="EA", on_hand=Decimal(5)),
    ]
