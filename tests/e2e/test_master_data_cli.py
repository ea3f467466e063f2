"""Master-data sync against a real `supplybridge up` (Schedules do not run on the time-skipping
server): the schedules `up` creates, seen by the `temporal` CLI; records edited through the
sandbox systems' APIs; the schedule triggered by `temporal schedule trigger` and by `supplybridge
schedules trigger`; each system read back; the bank difference a task, not a change; a second run
with nothing left to correct; the drift report naming every difference."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import time
from typing import Any

import httpx
import pytest

from runtime.binaries import temporal_cli_path
from runtime.settings import DEV_SANDBOX_TOKEN
from tests.e2e.conftest import CLI, Stack

pytestmark = pytest.mark.e2e
HEADERS = {"Authorization": f"Bearer {DEV_SANDBOX_TOKEN}"}
SCHEDULES = {"master-data-sync-suppliers", "master-data-sync-items", "master-data-sync-contracts"}


def temporal(stack: Stack, *args: str) -> str:
    done = subprocess.run([str(temporal_cli_path()), *args, "--address", stack.temporal],
                          capture_output=True, text=True, timeout=30, check=True)  # fmt: skip
    return done.stdout


def edit(stack: Stack, method: str, path: str, body: dict[str, Any] | None = None) -> None:
    httpx.request(method, f"{stack.sandbox}{path}", json=body, headers=HEADERS, timeout=10).raise_for_status()


def read(stack: Stack, path: str) -> dict[str, Any]:
    return dict(httpx.get(f"{stack.sandbox}{path}", headers=HEADERS, timeout=10).json())


def latest_scheduled_run(stack: Stack, after: int) -> str:
    for _ in range(60):
        code, out = stack.cli("schedules", "describe", "master-data-sync-suppliers")
        assert code == 0, out
        if len(out["recent_runs"]) > after:
            return str(out["recent_runs"][-1]["workflow_id"])
        time.sleep(0.5)
    raise AssertionError("the schedule did not start a run")


def finished(stack: Stack, workflow_id: str) -> dict[str, Any]:
    for _ in range(120):
        _, out = stack.cli("status", workflow_id)
        if out.get("status") == "completed":
            return dict(out["result"])
        time.sleep(0.5)
    raise AssertionError(f"{workflow_id} did not complete: {out}")


def test_up_creates_the_schedules_and_a_scheduled_sync_follows_the_policy(stack: Stack) -> None:
    listed = json.loads(temporal(stack, "schedule", "list", "-o", "json") or "[]")
    assert {s["scheduleId"] for s in listed} >= SCHEDULES

    edit(stack, "PATCH", "/vendor-management/registrations/VM-100002", {"payment_terms": "NET15"})
    edit(stack, "PATCH", "/erp/suppliers/SUP-0003", {"legal_name": "Cascadia Renamed Ltd"})
    edit(stack, "PATCH", "/vendor-management/registrations/VM-100004", {"bank_account": {
        "routing_number": "021000021", "account_number": "99998888777", "holder_name": "Gulf"}})  # fmt: skip
    edit(stack, "DELETE", "/analytics/suppliers/VM-100006")
    edit(stack, "POST", "/vendor-management/suppliers/VM-100004/status", {"status": "suspended", "reason": "test"})
    assert held_in_erp(stack, "SUP-0004")  # the webhook and the status sync
    edit(stack, "POST", "/erp/suppliers/SUP-0004/release", {"reason": "released by hand in the ERP"})

    temporal(stack, "schedule", "trigger", "--schedule-id", "master-data-sync-suppliers")
    summary = finished(stack, latest_scheduled_run(stack, 0))

    assert read(stack, "/vendor-management/registrations/VM-100002")["payment_terms"] == "NET30"  # the ERP's
    assert read(stack, "/erp/suppliers/SUP-0003")["legal_name"] == "Cascadia Pharma Distribution Corp"
    assert read(stack, "/analytics/suppliers/VM-100006")["erp_supplier_id"] == "SUP-0006"
    assert read(stack, "/vendor-management/registrations/VM-100004")["bank_account"]["account_number"] == "99998888777"
    assert held_in_erp(stack, "SUP-0004")  # held again: vendor management still says suspended
    assert (summary["corrected"], summary["created"], summary["conflicts"]) == (4, 1, 1)
    code, tasks = stack.cli("exceptions", "list", "--team", "vendor-master-data")
    assert any(t["exception_id"].endswith("VM-100004-vendor_management-bank_account") for t in tasks["exceptions"])
    _, issued = stack.cli("token", "issue", "--scopes", "tasks:decide", "--teams", "vendor-master-data")
    inbox = httpx.get(f"{stack.api}/v1/tasks", headers={"Authorization": f"Bearer {issued['access_token']}"})
    assert "master-data-conflict-suppliers-VM-100004-vendor_management-bank_account" in inbox.text

    command = [*CLI, "sync", "report", latest_scheduled_run(stack, 0), "--format", "csv", "--state-dir", stack.state]
    report = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    rows = list(csv.DictReader(io.StringIO(report.stdout)))
    assert {(r["record"], r["system"], r["field"], r["action"]) for r in rows} == {
        ("VM-100002", "vendor_management", "payment_terms", "correct"),
        ("VM-100003", "erp", "legal_name", "correct"),
        ("VM-100004", "vendor_management", "bank_account", "conflict"),
        ("VM-100006", "analytics", "(whole record)", "create"),
        ("VM-100004", "erp", "status", "correct"),
        ("VM-100004", "analytics", "status", "correct"),
    }
    assert "99998888777" not in report.stdout  # masked

    code, out = stack.cli("schedules", "trigger", "master-data-sync-suppliers")
    assert code == 0 and out["triggered"] is True
    second = finished(stack, latest_scheduled_run(stack, 1))
    # the bank difference waits for the steward since the first run: no new drift, nothing to correct
    assert (second["corrected"], second["created"], second["drifted"], second["conflicts"]) == (0, 0, {}, 0)
    code, status = stack.cli("status", latest_scheduled_run(stack, 1))
    result = status["result"]
    assert (result["awaiting_decision"], result["accuracy"], status["outcome"]) == (1, 1.0, "needs_decisions")


def test_sync_run_dry_run_reports_and_changes_nothing(stack: Stack) -> None:
    edit(stack, "PATCH", "/erp/items/ITM-1002", {"description": "Renamed item"})

    code, out = stack.cli("sync", "run", "items", "--dry-run")

    drifted = {"contracts": {"description": 1}, "analytics": {"description": 1}}
    assert code == 0 and out["summary"]["drifted"] == drifted, out
    assert set(out["summary"]["read"]) == {"erp", "contracts", "analytics"}
    assert read(stack, "/contracts/items")["items"][1]["description"] != "Renamed item"
    code, out = stack.cli("sync", "run", "items")
    assert out["summary"]["corrected"] == 2  # the contract system and analytics
    assert read(stack, "/analytics/items/ITM-1002")["description"] == "Renamed item"


LEIE_HEADER = ("LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,"
               "EXCLDATE,REINDATE,WAIVERDATE,WVRSTATE\n")  # fmt: skip


def held_in_erp(stack: Stack, erp_id: str) -> bool:
    for _ in range(60):
        if read(stack, f"/erp/suppliers/{erp_id}")["status"] == "on_hold":
            return True
        time.sleep(0.5)
    return False


def test_a_supplier_excluded_after_onboarding_is_held_after_the_rescreen(stack: Stack) -> None:
    newer = LEIE_HEADER + ",,,NORTHGATE SURGICAL SUPPLY LLC,OTHER BUSINESS,WHOLESALER,,,,1 MAIN ST,DAYTON,OH,45402," \
        "1128b7,20261101,00000000,00000000,\n"  # fmt: skip
    loaded = httpx.put(f"{stack.sandbox}/screening/exclusions", content=newer.encode(), timeout=10,
                       headers={**HEADERS, "Content-Type": "text/csv"})  # fmt: skip
    assert loaded.json()["loaded"] == 1

    code, out = stack.cli("schedules", "trigger", "compliance-rescreen")

    assert code == 0, out
    assert held_in_erp(stack, "SUP-0002")
    code, tasks = stack.cli("exceptions", "list", "--team", "compliance")
    assert [t["exception_id"] for t in tasks["exceptions"]] == ["compliance-review-VM-100002"]


def test_a_supplier_whose_insurance_expired_is_held_after_the_credential_review(stack: Stack) -> None:
    today = time.strftime("%Y-%m-%d", time.gmtime())
    documents = [{"kind": "certificate_of_insurance", "received_on": "2025-11-01", "expires_on": today}]
    edit(stack, "PATCH", "/vendor-management/registrations/VM-100006", {"documents": documents})

    temporal(stack, "schedule", "trigger", "--schedule-id", "credential-expiry")

    assert held_in_erp(stack, "SUP-0006")
    registration = read(stack, "/vendor-management/registrations/VM-100006")
    assert registration["status"] == "credential_expired"


def test_a_contract_changed_in_the_contract_system_is_corrected_in_analytics(stack: Stack) -> None:
    contract = read(stack, "/contracts/contracts/CTR-2025-0044")
    edit(
        stack, "POST", "/contracts/admin/contracts", {**contract, "gpo": "Northwest GPO", "effective_to": "2026-06-30"}
    )

    code, out = stack.cli("sync", "run", "contracts")

    assert code == 0 and out["summary"]["drifted"] == {"analytics": {"gpo": 1, "valid_to": 1}}, out
    row = read(stack, "/analytics/contracts/CTR-2025-0044")
    assert (row["gpo"], row["valid_to"]) == ("Northwest GPO", "2026-06-30")
