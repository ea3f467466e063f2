"""HttpVendorManagement and the vendor system's signed status webhooks, against the sandbox."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from adapters.errors import NotFoundError
from adapters.http import SystemClient
from adapters.vendor_management_http import HttpVendorManagement
from domain.events import VendorStatusEvent
from domain.supplier import VendorStatus
from runtime.webhooks import verify
from tests.support.sandbox import RunningSandbox
from tests.support.webhooks import WebhookReceiver, webhook_receiver

SECRET = "receiver-secret"


async def test_linking_an_erp_supplier_is_idempotent(
    vendor_management: HttpVendorManagement, vendor_management_client: SystemClient
) -> None:
    await vendor_management.link_erp_supplier("VM-100001", "SUP-0001")
    await vendor_management.link_erp_supplier("VM-100001", "SUP-0001")

    registration = await vendor_management_client.request("GET", "/registrations/VM-100001")
    assert (registration["erp_supplier_id"], registration["status"]) == ("SUP-0001", "active")


async def test_linking_an_unknown_vendor_creates_a_minimal_registration(
    vendor_management: HttpVendorManagement, vendor_management_client: SystemClient
) -> None:
    await vendor_management.link_erp_supplier("VM-200001", "SUP-0007")

    registration = await vendor_management_client.request("GET", "/registrations/VM-200001")
    assert registration["erp_supplier_id"] == "SUP-0007"
    listed = await vendor_management_client.request("GET", "/registrations", params={"erp_supplier_id": "SUP-0007"})
    assert [r["vendor_id"] for r in listed["items"]] == ["VM-200001"]


async def test_seeded_registrations_carry_their_credential_documents(
    vendor_management_client: SystemClient,
) -> None:
    documents = await vendor_management_client.request("GET", "/registrations/VM-100003/documents")

    assert {(d["kind"], d["expires_on"]) for d in documents["items"]} == {
        ("w9", None),
        ("certificate_of_insurance", "2027-10-31"),
    }


def point_webhooks_at(sandbox: RunningSandbox, receiver: WebhookReceiver) -> None:
    sandbox.admin("PUT", "/vendor-management/admin/webhook", {"url": receiver.url, "secret": SECRET})


async def change_status(client: SystemClient, ref: str, status: str, reason: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = await client.request(
        "POST", f"/suppliers/{ref}/status", json={"status": status, "reason": reason}
    )
    return answer


async def wait_for_delivery(client: SystemClient, event_id: str, *, timeout: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = await client.request("GET", "/events")
        event: dict[str, Any] = next(e for e in events["items"] if e["event_id"] == event_id)
        if event["delivery"]["status"] != "pending":
            return event
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{event_id} still pending after {timeout}s")


async def test_a_status_change_is_delivered_as_a_signed_webhook(
    sandbox: RunningSandbox, vendor_management_client: SystemClient
) -> None:
    with webhook_receiver() as receiver:
        point_webhooks_at(sandbox, receiver)

        answer = await change_status(vendor_management_client, "VM-100002", "suspended", "insurance lapsed")
        assert answer["delivery"]["status"] in ("pending", "delivered")

        [webhook] = receiver.wait_for(lambda received: len(received) == 1, timeout=2.0)
        assert verify(SECRET, webhook.body, webhook.headers["x-supplybridge-signature"]) is None
        assert webhook.headers["x-supplybridge-event-id"] == answer["event_id"]
        assert webhook.headers["content-type"] == "application/json"
        event = VendorStatusEvent.model_validate_json(webhook.body)
        assert (event.vendor_id, event.erp_supplier_id, event.status, event.reason) == (
            "VM-100002",
            "SUP-0002",
            VendorStatus.SUSPENDED,
            "insurance lapsed",
        )
        assert set(json.loads(webhook.body)) == set(VendorStatusEvent.model_fields)

        delivered = await wait_for_delivery(vendor_management_client, answer["event_id"])
        assert (delivered["delivery"]["status"], delivered["delivery"]["attempts"]) == ("delivered", 1)


async def test_a_status_change_can_name_the_erp_supplier_and_is_retried_until_accepted(
    sandbox: RunningSandbox, vendor_management_client: SystemClient
) -> None:
    with webhook_receiver() as receiver:
        receiver.status_code = 503
        point_webhooks_at(sandbox, receiver)

        answer = await change_status(vendor_management_client, "SUP-0003", "credential_expired")
        receiver.wait_for(lambda received: len(received) >= 1, timeout=2.0)
        receiver.status_code = 200
        delivered = await wait_for_delivery(vendor_management_client, answer["event_id"])

        assert answer["vendor_id"] == "VM-100003"
        assert (delivered["delivery"]["status"], delivered["delivery"]["attempts"]) == ("delivered", 2)
        registration = await vendor_management_client.request("GET", "/registrations/VM-100003")
        assert registration["status"] == "credential_expired"


async def test_a_status_change_for_an_unknown_supplier_is_not_found(
    vendor_management_client: SystemClient,
) -> None:
    with pytest.raises(NotFoundError):
        await change_status(vendor_management_client, "SUP-9999", "suspended")
