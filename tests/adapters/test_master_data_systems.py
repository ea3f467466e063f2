"""The sandbox systems as a data steward edits them (issue: master-data sync): the vendor
management supplier master, the ERP supplier header and item master, the contract system's
supplier references and items, and the analytics platform that receives golden records."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.sandbox import RunningSandbox


@pytest.fixture
def http(sandbox: RunningSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers=sandbox.headers, timeout=10) as client:
        yield client


def test_the_vendor_management_registration_holds_the_full_supplier_master(http: httpx.Client) -> None:
    registration = http.get("/vendor-management/registrations/VM-100001").json()

    assert registration["legal_name"] == "Lakeshore Medical Products Inc"
    assert registration["payment_terms"] == "NET45"
    assert registration["address"]["city"] == "Chicago"
    assert registration["tax_id"] == {"kind": "EIN", "value": "36-4412098"}
    assert registration["identifiers"]["duns"] == "078412233"


def test_a_patch_changes_only_the_fields_given_and_stamps_the_change(http: httpx.Client) -> None:
    before = http.get("/vendor-management/registrations/VM-100001").json()

    after = http.patch("/vendor-management/registrations/VM-100001", json={"payment_terms": "NET60", "dba_name": None})

    assert after.status_code == 200, after.text
    body = after.json()
    assert (body["payment_terms"], body["dba_name"], body["legal_name"]) == ("NET60", None, before["legal_name"])
    assert body["updated_at"] > before["updated_at"]
    assert http.get("/vendor-management/registrations/VM-100001").json()["payment_terms"] == "NET60"


def test_a_bad_edit_names_the_field(http: httpx.Client) -> None:
    cleared = http.patch("/vendor-management/registrations/VM-100001", json={"legal_name": None})
    bad_terms = http.patch("/erp/suppliers/SUP-0001", json={"payment_terms": ""})
    bad_gtin = http.patch("/erp/items/ITM-1001", json={"gtin": "12AB"})

    assert (cleared.status_code, bad_terms.status_code, bad_gtin.status_code) == (422, 422, 422)
    assert "legal_name" in cleared.json()["detail"]
    assert "payment_terms" in bad_terms.text and "gtin" in bad_gtin.text


def test_a_steward_edits_the_erp_header_and_item_master(http: httpx.Client) -> None:
    supplier = http.patch("/erp/suppliers/SUP-0001", json={"legal_name": "Lakeshore Medical Products"}).json()
    item = http.patch("/erp/items/ITM-1001", json={"description": "Exam glove, nitrile, M"}).json()

    assert supplier["legal_name"] == "Lakeshore Medical Products"
    assert item["description"] == "Exam glove, nitrile, M"
    assert http.get("/erp/items", params={"limit": 100}).json()["items"][0]["item_id"] == "ITM-1001"


def test_the_contract_system_keeps_its_own_supplier_references(http: httpx.Client) -> None:
    references = http.get("/contracts/suppliers").json()["items"]
    sup2 = next(r for r in references if r["erp_supplier_id"] == "SUP-0002")
    assert "CTR-2026-0107" in sup2["contract_ids"]

    edited = http.patch(f"/contracts/suppliers/{sup2['supplier_ref']}", json={"legal_name": "Renamed Co"}).json()

    assert edited["legal_name"] == "Renamed Co" and edited["contract_ids"] == sup2["contract_ids"]


def test_analytics_receives_golden_rows_one_by_one_and_in_batches(http: httpx.Client) -> None:
    seeded = http.get("/analytics/suppliers/VM-100001").json()
    assert seeded["erp_supplier_id"] == "SUP-0001"

    http.put("/analytics/suppliers/VM-100009", json={"legal_name": "New Co", "status": "active"}).raise_for_status()
    batch = {"rows": [{"key": "ITM-9001", "attributes": {"description": "Gauze"}},
                      {"key": "ITM-9002", "attributes": {"description": "Tape"}}]}  # fmt: skip
    written = http.post("/analytics/items/batch", json=batch, headers={"Idempotency-Key": "sync-1-batch-1"})

    assert written.json() == {"written": 2}
    assert http.get("/analytics/suppliers/VM-100009").json()["legal_name"] == "New Co"
    assert http.get("/analytics/items/ITM-9002").json()["description"] == "Tape"
    assert http.get("/analytics/vendors").status_code == 422  # not a dimension


def test_synthetic_suppliers_are_related_in_every_system_with_a_known_share_of_drift(http: httpx.Client) -> None:
    spec = {"suppliers": 50, "drift_rate": 0.2, "seed": 11}
    report = http.post("/admin/synthetic", json=spec).json()

    assert report["suppliers"] == 50 and len(report["drifted"]) == 10
    assert {d["kind"] for d in report["drifted"]} == {"erp_legal_name", "vm_payment_terms", "contracts_legal_name",
                                                      "erp_still_active", "analytics_missing"}  # fmt: skip
    assert http.post("/admin/synthetic", json=spec).json() == report  # deterministic
    registrations = http.get("/vendor-management/registrations", params={"limit": 500}).json()
    assert registrations["total"] == 6 + 50
    by_kind = {d["kind"]: d for d in report["drifted"]}
    renamed = by_kind["erp_legal_name"]
    vm = http.get(f"/vendor-management/registrations/{renamed['vendor_id']}").json()
    erp = http.get(f"/erp/suppliers/{renamed['erp_supplier_id']}").json()
    assert erp["legal_name"] == f"{vm['legal_name']} (ERP)"
    assert erp["external_ids"] == {"vendor_management": renamed["vendor_id"]}
    missing = by_kind["analytics_missing"]["vendor_id"]
    assert http.get(f"/analytics/suppliers/{missing}").status_code == 404
    in_sync = next(
        r["vendor_id"] for r in registrations["items"] if r["vendor_id"].startswith("VM-S")
        and r["vendor_id"] not in {d["vendor_id"] for d in report["drifted"]}
    )  # fmt: skip
    assert (
        http.get(f"/analytics/suppliers/{in_sync}").json()["legal_name"]
        == http.get(f"/vendor-management/registrations/{in_sync}").json()["legal_name"]
    )


def test_a_row_removed_from_analytics_is_gone(http: httpx.Client) -> None:
    assert http.delete("/analytics/suppliers/VM-100003").status_code == 204
    assert http.get("/analytics/suppliers/VM-100003").status_code == 404
    assert http.delete("/analytics/suppliers/VM-100003").status_code == 404
