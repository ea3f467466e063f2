"""A purchase order's `shipping` ("standard" | "expedited") is accepted, kept and shown again by the
sandbox ERP and the vendor channel."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from domain.purchasing import PurchaseOrder
from domain.system_records import VendorNotification
from tests.examples import example_json
from tests.support.sandbox import RunningSandbox


@pytest.fixture
def http(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers=sandbox.headers, timeout=10) as client:
        yield client


def po(**changes: Any) -> PurchaseOrder:
    return PurchaseOrder.model_validate({**example_json("purchase-orders/po-northgate-gowns.json"), **changes})


def test_the_erp_keeps_and_shows_a_pos_shipping(http: httpx.Client) -> None:
    expedited = po(po_number="PO-SHIP-1", shipping="expedited").model_dump(mode="json")
    standard = {k: v for k, v in po(po_number="PO-SHIP-2").model_dump(mode="json").items() if k != "shipping"}

    assert http.post("/erp/purchase-orders", json=expedited).json()["shipping"] == "expedited"
    assert http.post("/erp/purchase-orders", json=standard).json()["shipping"] == "standard"

    assert http.get("/erp/purchase-orders/PO-SHIP-1").json()["shipping"] == "expedited"
    listed = {p["po_number"]: p["shipping"] for p in http.get("/erp/purchase-orders").json()["items"]}
    assert (listed["PO-SHIP-1"], listed["PO-SHIP-2"]) == ("expedited", "standard")


def test_the_erp_refuses_an_unknown_shipping(http: httpx.Client) -> None:
    body = {**po(po_number="PO-SHIP-3").model_dump(mode="json"), "shipping": "overnight"}
    answer = http.post("/erp/purchase-orders", json=body)
    assert answer.status_code == 422 and "body.shipping" in answer.json()["detail"]


def test_the_vendor_channel_keeps_and_shows_a_notifications_shipping(http: httpx.Client) -> None:
    order = po(po_number="PO-SHIP-4", supplier_id="SUP-0002")
    notification = VendorNotification(
        po_number=order.po_number,
        supplier_id=order.supplier_id,
        order_date=order.need_by,
        ship_to=order.ship_to,
        currency="USD",
        shipping="expedited",
        lines=order.lines,
    )
    sent = http.post("/vendor-channel/purchase-orders", json=notification.model_dump(mode="json"))
    assert sent.status_code == 202 and sent.json()["shipping"] == "expedited"
    assert http.get("/vendor-channel/purchase-orders/PO-SHIP-4").json()["shipping"] == "expedited"
