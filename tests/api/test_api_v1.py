"""The governed /v1 API over a time-skipping Temporal with fake systems: each route's happy path
and refusals (401, 403, 404, 409, 413, 415, 422, 429), the idempotency contract, the audit trail
and the OpenAPI document."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from temporalio.testing import WorkflowEnvironment

from runtime.binaries import temporal_cli_path
from runtime.ports import free_port
from runtime.settings import ApiGrant, Settings
from runtime.temporal_client import data_converter
from starter.api.security import SCOPES, issue_token, sha256_hex
from store import Store
from tests.examples import example_json
from tests.support.api import in_process_api
from tests.support.harness import Harness, Systems, worker_harness
from tests.workflows.po_support import until, with_procurement_seed
from workflows import search_attributes as sa
from workflows.purchase_order import PurchaseOrderWorkflow

ALL_SCOPES = sorted(SCOPES)
API_KEY = "sbk_test_key_for_the_erp_bridge"


@pytest.fixture
def systems(systems: Systems) -> Systems:
    return with_procurement_seed(systems)


@pytest.fixture
async def harness(systems: Systems) -> AsyncIterator[Harness]:
    """A real dev server (the task inbox is a visibility query, which the time-skipping test
    server does not implement), bound to 127.0.0.1 on a free port, with a worker over fakes."""
    converter = data_converter(Settings(environment="development"))
    async with (
        await WorkflowEnvironment.start_local(
            data_converter=converter,
            dev_server_existing_path=str(temporal_cli_path()),
            ip="127.0.0.1",
            port=free_port(),
            search_attributes=list(sa.ALL_KEYS),
            dev_server_extra_args=["--http-port", str(free_port()), "--metrics-port", str(free_port())],
        ) as env,
        worker_harness(env, systems) as harness,
    ):
        yield harness


@asynccontextmanager
async def api(h: Harness, tmp_path: Path, **overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, Store]]:
    settings = Settings(
        task_queue=h.task_queue,
        state_dir=tmp_path,
        api_keys=[ApiGrant(subject="erp-bridge", secret_sha256=sha256_hex(API_KEY), scopes=["procurement:write"])],
        oauth_clients={
            "portal": ApiGrant(
                subject="supplier-portal",
                secret_sha256=sha256_hex("portal-secret"),
                scopes=["invoices:write", "procurement:write"],
            ),
        },
        **overrides,
    )
    async with in_process_api(h, settings) as (client, store):
        yield client, settings, store


def bearer(
    settings: Settings, scopes: list[str] = ALL_SCOPES, teams: list[str] | None = None, **kw: Any
) -> dict[str, str]:
    token, _ = issue_token(settings, kw.pop("subject", "ana"), scopes, teams if teams is not None else ["*"], **kw)
    return {"Authorization": f"Bearer {token}"}


def po_body(number: str = "PO-2026-000451", **changes: Any) -> dict[str, Any]:
    return {**example_json("purchase-orders/po-northgate-gowns.json"), "po_number": number, **changes}


def is_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and "Traceback" not in response.text
    return body


async def test_authentication_is_required_and_checked(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, _):
        is_problem(await client.post("/v1/purchase-orders", json=po_body()), 401)
        expired = bearer(settings, ttl_minutes=1) | {}
        claims = jwt.decode(expired["Authorization"][7:], options={"verify_signature": False})
        old = jwt.encode({**claims, "exp": int(time.time()) - 60}, settings.jwt_secret.get_secret_value(), "HS256")
        assert "expired" in is_problem(await client.get("/v1/tasks", headers={"Authorization": f"Bearer {old}"}),
                                       401)["detail"]  # fmt: skip
        wrong = jwt.encode({**claims, "aud": "another-api"}, settings.jwt_secret.get_secret_value(), "HS256")
        assert (
            "not for this API"
            in is_problem(await client.get("/v1/tasks", headers={"Authorization": f"Bearer {wrong}"}), 401)["detail"]
        )
        forged = jwt.encode(claims, "not-our-key-not-our-key-not-our-key", "HS256")
        is_problem(await client.get("/v1/tasks", headers={"Authorization": f"Bearer {forged}"}), 401)
        is_problem(await client.get("/v1/tasks", headers={"X-API-Key": "nope"}), 401)

        lacking = bearer(settings, ["invoices:write"])
        assert (
            is_problem(await client.post("/v1/purchase-orders", json=po_body(), headers=lacking), 403)["scope"]
            == "procurement:write"
        )
        is_problem(await client.get("/v1/audit", headers=lacking), 403)


async def test_a_po_is_submitted_read_received_and_cancel_refused_after_receipt(
    harness: Harness, tmp_path: Path
) -> None:
    async with api(harness, tmp_path) as (client, _, store):
        headers = {"X-API-Key": API_KEY}  # a system caller
        response = await client.post("/v1/purchase-orders?wait=true", json=po_body(), headers=headers)
        assert response.status_code == 202 and response.json()["stage"] == "awaiting_acknowledgement"
        handle = harness.client.get_workflow_handle("purchase-order-PO-2026-000451")
        from tests.workflows.po_support import ack

        await handle.signal(PurchaseOrderWorkflow.acknowledgement_received, ack("PO-2026-000451"))
        await until(handle, lambda s: s.stage == "open")

        got = await client.get("/v1/purchase-orders/PO-2026-000451", headers=headers)
        assert got.status_code == 200 and got.json()["stage"] == "open"
        is_problem(await client.get("/v1/purchase-orders/PO-NOPE", headers=headers), 404)
        receipt = await client.post(
            "/v1/purchase-orders/PO-2026-000451/receipts", json={"line": 1, "quantity": "5"}, headers=headers
        )
        assert receipt.status_code == 200 and receipt.json()["lines"][0]["received"] == "5"
        over = await client.post(
            "/v1/purchase-orders/PO-2026-000451/receipts", json={"line": 1, "quantity": "50"}, headers=headers
        )
        assert "more than line 1" in is_problem(over, 409)["detail"]
        cancel = await client.post(
            "/v1/purchase-orders/PO-2026-000451/cancel", json={"reason": "not needed"}, headers=headers
        )
        assert "has receipts" in is_problem(cancel, 409)["detail"]
        actions = [(e.actor, e.action) for e in store.audit.query()]
        assert ("erp-bridge", "purchase_order.submitted") in actions
        assert ("erp-bridge", "purchase_order.received") in actions


async def test_bad_input_names_the_field_and_the_reason(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, _):
        body = po_body()
        body["lines"][0]["quantity"] = -3
        problem = is_problem(await client.post("/v1/purchase-orders", json=body, headers=bearer(settings)), 422)
        assert (
            problem["errors"][0]["field"] == "body.lines.0.quantity"
            and "greater than 0" in problem["errors"][0]["reason"]
        )
        wrong_type = await client.post(
            "/v1/purchase-orders", content=b"po_number=1", headers=bearer(settings) | {"Content-Type": "text/plain"}
        )
        is_problem(wrong_type, 415)
        huge = await client.post(
            "/v1/purchase-orders",
            content=json.dumps({"x": "a" * (settings.max_request_bytes + 10)}),
            headers=bearer(settings) | {"Content-Type": "application/json"},
        )
        is_problem(huge, 413)


async def test_idempotency_keys_replay_refuse_other_bodies_and_in_flight(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, store):
        headers = bearer(settings) | {"Idempotency-Key": "po-451-once"}
        first = await client.post("/v1/purchase-orders?wait=true", json=po_body(), headers=headers)
        again = await client.post("/v1/purchase-orders?wait=true", json=po_body(), headers=headers)
        assert first.status_code == again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert harness.systems.procurement.names().count("create_purchase_order") == 1
        other = await client.post("/v1/purchase-orders", json=po_body("PO-2026-000999"), headers=headers)
        assert "another request body" in is_problem(other, 422)["detail"]

        principal = "jwt:ana"
        store.idempotency.claim(
            principal,
            "busy",
            method="POST",
            path="/v1/invoices",
            request_hash="x",
            retention=__import__("datetime").timedelta(hours=1),
        )
        busy = await client.post(
            "/v1/invoices",
            json=example_json("invoices/inv-clean.json"),
            headers=bearer(settings) | {"Idempotency-Key": "busy"},
        )
        assert busy.status_code in (409, 422)


async def test_the_task_inbox_shows_and_lets_decide_only_your_teams_tasks(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, store):
        body = po_body("PO-2026-000452", **{k: v for k, v in example_json(
            "purchase-orders/po-off-contract-price.json").items() if k != "po_number"})  # fmt: skip
        submitted = await client.post("/v1/purchase-orders?wait=true", json=body, headers=bearer(settings))
        assert submitted.json()["stage"] == "awaiting_approval"

        pricing = bearer(settings, ["tasks:decide"], ["pricing"], subject="pat")
        receiving = bearer(settings, ["tasks:decide"], ["receiving"], subject="rio")
        inbox = await client.get("/v1/tasks", headers=pricing)
        tasks = inbox.json()["items"]
        assert [t["exception_id"] for t in tasks] == ["purchase-order-PO-2026-000452"] and tasks[0]["team"] == "pricing"
        assert (await client.get("/v1/tasks", headers=receiving)).json()["items"] == []
        is_problem(await client.get("/v1/tasks?team=pricing", headers=receiving), 403)

        decision = {"action": "approve", "reason": "spot buy approved"}
        task = "/v1/tasks/purchase-order-PO-2026-000452/decision"
        is_problem(await client.post(task, json=decision, headers=receiving), 403)
        is_problem(await client.post("/v1/tasks/purchase-order-NOPE/decision", json=decision, headers=pricing), 404)
        decided = await client.post(task, json=decision, headers=pricing)
        assert decided.status_code == 200 and decided.json()["stage"] in ("awaiting_acknowledgement", "releasing")
        entry = store.audit.query(actor="pat")[0]
        assert entry.action == "pricing_approval.decided" and entry.details["decision"] == "approve"


async def test_audit_reads_filter_and_the_chain_verifies(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, store):
        await client.post("/v1/purchase-orders", json=po_body(), headers=bearer(settings, subject="ana"))
        page = await client.get("/v1/audit?record_id=PO-2026-000451&actor=ana", headers=bearer(settings))
        items = page.json()["items"]
        assert [i["action"] for i in items] == ["purchase_order.submitted"] and items[0]["hash"]
        assert store.audit.verify().ok
        is_problem(await client.get("/v1/audit?limit=5000", headers=bearer(settings)), 422)
        # past the database's integers: refused as input, not a 500
        is_problem(await client.get("/v1/audit?offset=9223372036854775808", headers=bearer(settings)), 422)


async def test_rate_limits_answer_429_with_retry_after(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path, rate_limit_per_minute=2) as (client, settings, _):
        headers = bearer(settings)
        assert (await client.get("/v1/tasks", headers=headers)).status_code == 200
        assert (await client.get("/v1/tasks", headers=headers)).status_code == 200
        limited = await client.get("/v1/tasks", headers=headers)
        is_problem(limited, 429)
        assert int(limited.json()["retry_after"]) >= 1


async def test_oauth2_client_credentials(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, _, _store):
        form = {"grant_type": "client_credentials", "client_id": "portal", "client_secret": "portal-secret"}
        issued = await client.post("/v1/oauth/token", data=form | {"scope": "invoices:write"})
        assert issued.status_code == 200 and issued.json()["scope"] == "invoices:write"
        token = {"Authorization": f"Bearer {issued.json()['access_token']}"}
        is_problem(await client.post("/v1/purchase-orders", json=po_body(), headers=token), 403)
        is_problem(await client.post("/v1/oauth/token", data=form | {"client_secret": "wrong"}), 401)
        is_problem(await client.post("/v1/oauth/token", data=form | {"scope": "audit:read"}), 403)


async def test_the_openapi_document_is_complete(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, _, _store):
        document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert {"HTTPBearer", "APIKeyHeader"} <= set(schemes)
    assert "Problem" in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/") or path.startswith("/v1/events") or path == "/v1/oauth/token":
            continue
        for method, operation in operations.items():
            assert operation.get("security"), f"{method} {path} declares no security"
            for status in ("401", "403", "422", "429", "500"):
                assert status in operation["responses"], f"{method} {path} does not document {status}"


async def test_supplier_reviews_are_tasks_of_the_vendor_master_data_inbox(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, store):
        body = example_json("suppliers/possible-duplicate.json")
        started = await client.post("/v1/suppliers/onboarding?wait=true", json=body, headers=bearer(settings))
        assert started.status_code == 202 and started.json()["stage"] == "awaiting_review", started.text

        reviewer = bearer(settings, ["tasks:decide"], ["vendor-master-data"], subject="vic")
        [task] = (await client.get("/v1/tasks", headers=reviewer)).json()["items"]
        assert task["kind"] == "supplier_review" and "SUP-0001" in task["summary"]
        refused = await client.post(
            f"/v1/tasks/{task['exception_id']}/decision", json={"action": "short_pay", "reason": "x y z"},
            headers=reviewer,
        )  # fmt: skip
        is_problem(refused, 409)
        decided = await client.post(
            f"/v1/tasks/{task['exception_id']}/decision", json={"action": "approve", "reason": "different company"},
            headers=reviewer,
        )  # fmt: skip
        assert decided.status_code == 200 and decided.json()["outcome"] == "onboarded", decided.text
        assert store.audit.query(actor="vic")[0].action == "supplier_review.decided"


async def test_events_are_accepted_with_a_signature_or_the_events_scope(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, _):
        event = {"event_id": "evt-scope-1", "vendor_id": "VM-100002", "erp_supplier_id": "SUP-0002",
                 "status": "suspended", "occurred_at": "2026-11-24T10:00:00Z"}  # fmt: skip
        is_problem(await client.post("/v1/events/vendor-status", json=event), 401)
        no_scope = await client.post("/v1/events/vendor-status", json=event, headers=bearer(settings, ["audit:read"]))
        is_problem(no_scope, 403)
        system = bearer(settings, ["events:write"], systems=["vendor-management"])  # what it speaks for
        sent = await client.post("/v1/events/vendor-status", json=event, headers=system)
        assert sent.status_code == 202 and sent.json()["workflow_id"] == "supplier-status-VM-100002"
