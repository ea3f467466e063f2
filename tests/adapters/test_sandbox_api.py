"""The sandbox's HTTP contract seen from a plain client: error bodies, paging, idempotent
replays, masking and the control endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.sandbox import RunningSandbox

DRAFT = {
    "legal_name": "Harborview Medical Supply LLC",
    "tax_id": {"kind": "EIN", "value": "61-2345678"},
    "payment_terms": "NET30",
}


@pytest.fixture
def http(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers=sandbox.headers, timeout=10) as client:
        yield client


def test_health_needs_no_token_and_names_the_systems(sandbox: RunningSandbox) -> None:
    body = httpx.get(f"{sandbox.url}/health").json()

    assert body == {
        "status": "ok",
        "systems": [
            "erp",
            "vendor-management",
            "contracts",
            "screening",
            "inventory",
            "vendor-channel",
            "ap",
            "analytics",
        ],
    }


def test_errors_are_code_and_detail(http: httpx.Client) -> None:
    missing = http.get("/erp/suppliers/SUP-9999")
    unknown_route = http.get("/nowhere")

    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    assert set(missing.json()) == {"code", "detail"}
    assert (unknown_route.status_code, unknown_route.json()["code"]) == (404, "not_found")


def test_validation_errors_name_the_field_but_not_the_value(http: httpx.Client) -> None:
    response = http.post("/erp/suppliers", json={**DRAFT, "tax_id": {"kind": "XYZ", "value": "61-2345678"}})

    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert "body.tax_id.kind" in response.json()["detail"]
    assert "2345678" not in response.text


def test_listing_pages_and_refuses_large_limits(http: httpx.Client) -> None:
    page = http.get("/contracts/contracts", params={"limit": 2, "offset": 1}).json()
    too_large = http.get("/contracts/items", params={"limit": 501})

    assert [c["contract_id"] for c in page["items"]] == ["CTR-2026-0112", "CTR-2026-0120"]
    assert {k: page[k] for k in ("total", "limit", "offset", "has_more")} == {
        "total": 5,
        "limit": 2,
        "offset": 1,
        "has_more": True,
    }
    assert (too_large.status_code, too_large.json()["code"]) == (422, "limit_too_large")


def test_a_replay_returns_the_stored_status_and_body(http: httpx.Client) -> None:
    first = http.post("/erp/suppliers", json=DRAFT, headers={"Idempotency-Key": "k-1"})
    replay = http.post("/erp/suppliers", json=DRAFT, headers={"Idempotency-Key": "k-1"})
    without_key = http.post("/erp/suppliers", json=DRAFT)

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.content == first.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (without_key.status_code, without_key.json()["code"]) == (409, "duplicate_tax_id")


def test_bank_accounts_are_answered_masked(http: httpx.Client) -> None:
    account = {"routing_number": "011000138", "account_number": "123456789012", "holder_name": "Northgate"}

    created = http.post("/erp/suppliers/SUP-0002/bank-accounts", json=account)
    listed = http.get("/erp/suppliers/SUP-0002/bank-accounts")

    assert created.status_code == 201
    assert created.json()["account_number_last4"] == "9012"
    assert len(listed.json()["items"]) == 2  # the seeded account and this one
    for text in (created.text, listed.text):
        assert "123456789012" not in text and "011000138" not in text


def test_faults_are_listed_set_and_cleared(http: httpx.Client) -> None:
    assert http.put("/admin/faults/erp", json={"outage": True}).status_code == 200
    assert http.get("/admin/faults").json()["erp"]["outage"] is True
    assert http.put("/admin/faults/nowhere", json={}).json()["code"] == "not_found"
    assert http.put("/admin/faults/erp", json={"error_rate": 2}).status_code == 422

    http.delete("/admin/faults/erp")

    assert http.get("/admin/faults").json()["erp"]["outage"] is False


def test_reset_brings_the_seed_back(http: httpx.Client) -> None:
    http.post("/erp/suppliers", json=DRAFT)
    assert http.get("/erp/suppliers").json()["total"] == 7

    http.post("/admin/reset")

    assert http.get("/erp/suppliers").json()["total"] == 6
