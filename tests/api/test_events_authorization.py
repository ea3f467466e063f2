"""Inbound events speak only for what their sender is bound to, are checked against the PO as
strictly as the CLI's inputs, are audited taken or refused, and a replayed signed delivery is not
delivered twice. Over a time-skipping Temporal with fake systems (tests/api/conftest.py)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import WorkflowHandle

from domain.purchasing import PoAcknowledgement, purchase_order_workflow_id
from runtime.settings import ApiGrant, Settings
from runtime.webhooks import SIGNATURE_HEADER, sign
from starter.api.security import issue_token, sha256_hex
from store import Store
from tests.support.api import in_process_api, problem_of
from tests.support.harness import Harness, Systems
from tests.workflows.po_support import po_status, purchase_order, start_po, until

SECRET = "test-webhook-secret-for-events"
PARTNER_KEY = "sbk_partner_of_sup_0002"


@pytest.fixture
def systems(systems: Systems) -> Systems:
    from tests.workflows.po_support import with_procurement_seed

    return with_procurement_seed(systems)


@asynccontextmanager
async def api(h: Harness, tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, Store]]:
    settings = Settings(
        task_queue=h.task_queue,
        state_dir=tmp_path,
        webhook_secret=SECRET,
        api_keys=[
            ApiGrant(
                subject="northgate-portal",
                secret_sha256=sha256_hex(PARTNER_KEY),
                scopes=["events:write"],
                suppliers=["SUP-0002"],
            )
        ],
    )
    async with in_process_api(h, settings) as (client, store):
        yield client, settings, store


def token(
    settings: Settings, subject: str, *, suppliers: list[str] | None = None, systems: list[str] | None = None
) -> dict[str, str]:
    value, _ = issue_token(settings, subject, ["events:write"], suppliers=suppliers, systems=systems)
    return {"Authorization": f"Bearer {value}"}


def signed(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(SECRET, raw)}


def acknowledgement(po_number: str, event_id: str = "ack-1", **changes: Any) -> dict[str, Any]:
    return {"event_id": event_id, "po_number": po_number, "acknowledged_at": "2026-11-24T12:00:00Z", "lines": [],
            **changes}  # fmt: skip


def receipt(po_number: str, receipt_id: str, line: int = 1, quantity: str = "5", uom: str = "CS") -> dict[str, Any]:
    return {"receipt_id": receipt_id, "po_number": po_number,
            "lines": [{"line": line, "quantity": quantity, "uom": uom}]}  # fmt: skip


async def awaiting_ack(h: Harness, po_number: str) -> WorkflowHandle:
    handle = await start_po(h, purchase_order(po_number=po_number))  # supplier SUP-0002
    await until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    return handle


async def signals(handle: WorkflowHandle, name: str) -> list[Any]:
    """The inputs of the signals `name` the run received, decoded."""
    found = []
    async for event in handle.fetch_history_events():
        attributes = event.workflow_execution_signaled_event_attributes
        if event.HasField("workflow_execution_signaled_event_attributes") and attributes.signal_name == name:
            [value] = await handle._client.data_converter.decode(attributes.input.payloads)
            found.append(value)
    return found


async def test_a_partner_acknowledges_only_its_own_suppliers_pos(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, store):
        po = "PO-2026-700001"
        handle = await awaiting_ack(harness, po)
        other_supplier = token(settings, "lakeshore", suppliers=["SUP-0001"])
        reject_all = acknowledgement(po, lines=[{"line": 1, "status": "rejected"}, {"line": 2, "status": "rejected"}])
        forged = await client.post("/v1/events/po-acknowledgements", json=reject_all, headers=other_supplier)
        assert "not a PO of your suppliers" in problem_of(forged, 403)["detail"]
        repriced = acknowledgement(po, lines=[{"line": 1, "status": "price_changed", "unit_price": "0.01"}])
        problem_of(await client.post("/v1/events/po-acknowledgements", json=repriced, headers=other_supplier), 403)
        nowhere = acknowledgement("PO-2026-NOPE")  # unknown and another supplier's PO answer alike
        problem_of(await client.post("/v1/events/po-acknowledgements", json=nowhere, headers=other_supplier), 403)
        unbound = await client.post("/v1/events/po-acknowledgements", json=acknowledgement(po),
                                    headers=token(settings, "nobody"))  # fmt: skip
        assert "speaks for no supplier" in problem_of(unbound, 403)["detail"]

        claims_to_be_the_channel = acknowledgement(po, source="webhook:vendor-channel")  # never taken from the body
        own = await client.post(
            "/v1/events/po-acknowledgements", json=claims_to_be_the_channel, headers={"X-API-Key": PARTNER_KEY}
        )
        assert own.status_code == 202 and own.json()["delivered"] is True, own.text
        await until(handle, lambda s: s.stage == "open")
        [sent] = await signals(handle, "acknowledgement_received")
        assert PoAcknowledgement.model_validate(sent).source == "api_key:northgate-portal"

        trail = [(e.actor, e.outcome, e.details.get("status")) for e in store.audit.query(record_id=po)]
        assert trail.count(("lakeshore", "refused", 403)) == 2 and ("nobody", "refused", 403) in trail
        assert ("northgate-portal", "delivered", None) in trail
        assert all(e.action == "event.po_acknowledgement" for e in store.audit.query(record_id=po))


async def test_a_supplier_may_not_send_vendor_status_or_erp_receipts(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, store):
        supplier = token(settings, "northgate", suppliers=["SUP-0002"])
        hold = {"event_id": "evt-hold-1", "vendor_id": "VM-100002", "erp_supplier_id": "SUP-0001",
                "status": "suspended", "occurred_at": "2026-11-24T10:00:00Z"}  # fmt: skip
        refused = await client.post("/v1/events/vendor-status", json=hold, headers=supplier)
        assert "vendor-management" in problem_of(refused, 403)["detail"]
        bogus = receipt("PO-2026-700009", "RCV-FORGED", quantity="1000")
        problem_of(await client.post("/v1/events/erp-receipts", json=bogus, headers=supplier), 403)
        erp = token(settings, "erp-bridge", systems=["erp"])
        problem_of(await client.post("/v1/events/vendor-status", json=hold, headers=erp), 403)
        vendor_management = token(settings, "vm-bridge", systems=["vendor-management"])
        sent = await client.post("/v1/events/vendor-status", json=hold, headers=vendor_management)
        assert sent.status_code == 202 and sent.json()["workflow_id"] == "supplier-status-VM-100002"
        outcomes = [(e.actor, e.outcome) for e in store.audit.query(record_id="VM-100002")]
        assert outcomes == [("northgate", "refused"), ("erp-bridge", "refused"), ("vm-bridge", "delivered")]


async def test_erp_receipts_are_checked_against_the_po(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, _, store):
        po = "PO-2026-700002"
        handle = await awaiting_ack(harness, po)
        raw, headers = signed(acknowledgement(po, "ack-channel-1"))
        assert (await client.post("/v1/events/po-acknowledgements", content=raw, headers=headers)).status_code == 202
        await until(handle, lambda s: s.stage == "open")

        async def send(body: dict[str, Any]) -> httpx.Response:
            raw, headers = signed(body)
            return await client.post("/v1/events/erp-receipts", content=raw, headers=headers)

        negative = problem_of(await send(receipt(po, "RCV-1", quantity="-5")), 422)
        assert negative["errors"] == [{"field": "lines.0.quantity", "reason": "the quantity must be more than zero"}]
        over = problem_of(await send(receipt(po, "RCV-2", quantity="1000")), 409)
        assert over["errors"][0]["field"] == "lines.0.quantity" and "still expects (20 CS)" in over["detail"]
        assert problem_of(await send(receipt(po, "RCV-3", line=9)), 422)["errors"][0]["field"] == "lines.0.line"
        taken = await send(receipt(po, "RCV-4", quantity="5"))
        assert taken.status_code == 202 and taken.json()["delivered"] is True
        status = await until(handle, lambda s: s.lines[0].received == 5)
        assert status.receipts == ["RCV-4"]
        outcomes = [(e.actor, e.outcome, e.details.get("status")) for e in store.audit.query(record_id=po)
                    if e.action == "event.erp_receipt"]  # fmt: skip
        assert outcomes == [("erp", "refused", 422), ("erp", "refused", 409), ("erp", "refused", 422),
                            ("erp", "delivered", None)]  # fmt: skip


async def test_a_replayed_signed_delivery_is_not_delivered_twice(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, _, store):
        po = "PO-2026-700003"
        handle = await awaiting_ack(harness, po)
        raw, headers = signed(acknowledgement(po, "ack-replayed"))
        first = await client.post("/v1/events/po-acknowledgements", content=raw, headers=headers)
        again = await client.post("/v1/events/po-acknowledgements", content=raw, headers=headers)
        assert first.status_code == 202 and first.json()["delivered"] is True
        assert again.status_code == 200 and again.json() | {} == {
            "workflow_id": purchase_order_workflow_id(po), "event_id": "ack-replayed", "delivered": False,
            "duplicate": True}  # fmt: skip
        await until(handle, lambda s: s.stage == "open")
        assert len(await signals(handle, "acknowledgement_received")) == 1
        assert [e.outcome for e in store.audit.query(record_id=po)] == ["delivered", "duplicate"]
        # the sender's retry signs anew (another timestamp): taken, and the PO dedupes the event id
        retry = headers | {SIGNATURE_HEADER: sign(SECRET, raw, int(time.time()) + 1)}
        assert (await client.post("/v1/events/po-acknowledgements", content=raw, headers=retry)).status_code == 202
        assert len(await signals(handle, "acknowledgement_received")) == 2
        assert (await po_status(handle)).stage == "open"
