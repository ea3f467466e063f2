"""End to end, as a user works: `supplybridge up` on free ports with a fresh state dir, suppliers
onboarded through the CLI with --json, outcomes read back from the CLI, the sandbox ERP and the
`temporal` CLI; a suspension in the vendor system holds the ERP supplier within 10 s."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.js.errors
import pytest

from runtime.binaries import temporal_cli_path
from runtime.ports import free_port
from runtime.settings import DEV_SANDBOX_TOKEN
from tests.e2e.conftest import CLI, Stack
from tests.examples import EXAMPLES

pytestmark = pytest.mark.e2e


def erp_suppliers_with_tax_id(stack: Stack, tax_id: str) -> list[dict[str, Any]]:
    return list(stack.sandbox_get(f"/erp/suppliers?tax_id={tax_id}")["items"])


def supplier_file(tmp_path: Path, name: str, **changes: Any) -> str:
    data = json.loads((EXAMPLES / "suppliers" / f"{name}.json").read_text())
    data.update(changes)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_new_supplier_onboarded_once_and_held_when_suspended(stack: Stack, tmp_path: Path) -> None:
    path = supplier_file(tmp_path, "new-supplier", source={"system": "vendor_management", "id": "VM-300001"})
    code, out = stack.cli("onboard", path, "--wait")
    assert code == 0 and out["outcome"] == "onboarded", out
    erp_id = out["result"]["erp_supplier_id"]
    assert [s["erp_supplier_id"] for s in erp_suppliers_with_tax_id(stack, "45-2873311")] == [erp_id]

    code, again = stack.cli("onboard", path, "--wait")  # a second submission never duplicates
    assert code == 0 and again["result"]["erp_supplier_id"] == erp_id
    assert len(erp_suppliers_with_tax_id(stack, "45-2873311")) == 1

    started = time.monotonic()
    assert (
        stack.sandbox_post("/vendor-management/suppliers/VM-300001/status", {"status": "suspended"}).status_code == 202
    )
    while stack.sandbox_get(f"/erp/suppliers/{erp_id}")["status"] != "on_hold":
        assert time.monotonic() - started < 10, "not on hold within 10 s"
        time.sleep(0.2)

    described = subprocess.run(
        [
            str(temporal_cli_path()),
            "workflow",
            "describe",
            "--address",
            stack.temporal,
            "-w",
            "supplier-onboarding-VM-300001",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert described.returncode == 0, described.stderr
    assert "SupplyBridgeOutcome" in described.stdout and "45-2873311" not in described.stdout


def test_rejections_exit_3_and_change_nothing(stack: Stack) -> None:
    before = stack.sandbox_get("/erp/suppliers?limit=500")["total"]
    code, out = stack.cli("onboard", str(EXAMPLES / "suppliers" / "bad-routing-number.json"), "--wait")
    assert code == 3 and out["result"]["reasons"][0]["field"] == "bank_account.routing_number"
    code, out = stack.cli("onboard", str(EXAMPLES / "suppliers" / "excluded-on-leie.json"), "--wait")
    assert code == 3 and out["result"]["rejection_kind"] == "compliance_block"
    assert "APEX DURABLE MEDICAL EQUIPMENT INC" in out["result"]["reasons"][0]["reason"]
    assert stack.sandbox_get("/erp/suppliers?limit=500")["total"] == before


def test_existing_supplier_is_linked(stack: Stack) -> None:
    code, out = stack.cli("onboard", str(EXAMPLES / "suppliers" / "existing-supplier.json"), "--wait")
    assert code == 0 and out["outcome"] == "linked" and out["result"]["erp_supplier_id"] == "SUP-0002"
    assert len(erp_suppliers_with_tax_id(stack, "52-1987345")) == 1


def test_possible_duplicate_waits_then_approval_creates(stack: Stack) -> None:
    code, out = stack.cli("onboard", str(EXAMPLES / "suppliers" / "possible-duplicate.json"), "--wait")
    assert code == 0 and out["stage"] == "awaiting_review", out
    workflow_id = out["workflow_id"]
    code, status = stack.cli("status", workflow_id)
    assert status["result"]["assigned_team"] == "vendor-master-data"
    code, decided = stack.cli("approve", workflow_id, "--reason", "different company")
    assert code == 0 and decided["outcome"] == "onboarded", decided
    code, refused = stack.cli("reject", workflow_id, "--reason", "too late")
    assert code == 2 and f"{workflow_id} is completed (outcome onboarded)" in refused["error"], refused


def test_bad_input_names_the_field(stack: Stack, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    data = json.loads((EXAMPLES / "suppliers" / "new-supplier.json").read_text())
    del data["tax_id"]
    broken.write_text(json.dumps(data))
    code, out = stack.cli("onboard", str(broken))
    assert code == 2 and out["errors"][0]["field"] == "tax_id"
    code, out = stack.cli("status", "supplier-onboarding-NOPE")
    assert code == 2


def test_faults_in_every_system_still_give_exactly_one_erp_supplier(stack: Stack, tmp_path: Path) -> None:
    faults = {"error_rate": 0.3, "throttle_rate": 0.2, "retry_after_seconds": 1, "latency_ms": 50}
    for system in ("erp", "vendor-management", "contracts", "screening"):
        headers = {"Authorization": f"Bearer {DEV_SANDBOX_TOKEN}"}
        assert httpx.put(f"{stack.sandbox}/admin/faults/{system}", json=faults, headers=headers).status_code == 200
    try:
        path = supplier_file(
            tmp_path,
            "new-supplier",
            source={"system": "vendor_management", "id": "VM-300002"},
            legal_name="Tidewater Wound Dressings Corp",
            tax_id={"kind": "EIN", "value": "45-7712093"},
            contract_refs=["CTR-2026-0120"],
        )
        code, out = stack.cli("onboard", path, "--wait", "--timeout", "90")
        assert code == 0 and out["outcome"] == "onboarded", out
    finally:
        httpx.delete(f"{stack.sandbox}/admin/faults", headers={"Authorization": f"Bearer {DEV_SANDBOX_TOKEN}"})
    suppliers = erp_suppliers_with_tax_id(stack, "45-7712093")
    assert [s["erp_supplier_id"] for s in suppliers] == [out["result"]["erp_supplier_id"]]
    erp_id = suppliers[0]["erp_supplier_id"]
    assert len(stack.sandbox_get(f"/erp/suppliers/{erp_id}/bank-accounts")["items"]) == 1
    assert len(stack.sandbox_get(f"/erp/suppliers/{erp_id}/sites")["items"]) == 1


def test_demo_runs_every_scenario_as_promised(tmp_path: Path) -> None:
    ports = [str(free_port()) for _ in range(4)]
    nats_url = os.environ.get("SUPPLYBRIDGE_TEST_NATS_URL")  # without it, a port where no broker answers
    stream = f"DEMO_{uuid.uuid4().hex[:8]}"
    broker = {
        "SUPPLYBRIDGE_EVENTS_BROKER_URL": nats_url or f"nats://127.0.0.1:{free_port()}",
        "SUPPLYBRIDGE_EVENTS_STREAM": stream,
        "SUPPLYBRIDGE_EVENTS_SUBJECT_PREFIX": f"test.{stream.lower()}",
    }
    done = subprocess.run(
        [*CLI, "demo", "--state-dir", str(tmp_path / "demo"), "--temporal-port", ports[0], "--ui-port", ports[1],
         "--sandbox-port", ports[2], "--api-port", ports[3], "--json"],
        capture_output=True, text=True, timeout=180, env={**os.environ, **broker},
    )  # fmt: skip
    if nats_url:
        delete_stream(nats_url, stream)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    names = [scenario["name"] for scenario in report["scenarios"]]
    assert report["ok"] is True and len(names) == 37 + bool(nats_url), report
    assert "business events -> sandbox analytics" in names
    assert {"KPI report (report kpis)", "metrics (GET /metrics)", "alerts (alerts-evaluate)"} <= set(names)
    assert ("business events -> NATS JetStream" in names) is bool(nats_url)
    assert "gloves below reorder point" in names and "replenishment-scan (Schedule)" in names
    assert "810-cascadia-invoice.edi (intake)" in names and "bad-envelope.edi (inbox)" in names
    assert all(scenario["ok"] for scenario in report["scenarios"])


def delete_stream(url: str, stream: str) -> None:
    async def delete() -> None:
        client = await nats.connect(url, connect_timeout=2, allow_reconnect=False)
        try:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await client.jetstream().delete_stream(stream)
        finally:
            await client.close()

    asyncio.run(delete())
