"""The CLI against a real dev server (a worker over fakes): a run is named by its PO number,
vendor id or workflow id wherever a command takes one; `po receive --json` prints the run as
every run command does; a decision sent to a run that has ended says so, with its outcome."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runtime.settings import Settings
from starter import operations as ops
from starter.cli import app
from tests.api import test_api_v1
from tests.examples import supplier_request
from tests.support.harness import Harness, Systems, seeded_systems
from tests.workflows.po_support import ack, purchase_order, until, with_procurement_seed
from workflows.purchase_order import PurchaseOrderWorkflow

harness = test_api_v1.harness  # a dev server (visibility and search attributes) and a worker over fakes


@pytest.fixture
def systems() -> Systems:
    return with_procurement_seed(seeded_systems())


RUN_FIELDS = {"ok", "workflow_id", "workflow_type", "status", "stage", "outcome", "result", "error", "note", "ui_url"}


async def cli(h: Harness, *args: str) -> tuple[int, dict[str, Any]]:
    target = h.env.client.service_client.config.target_host
    argv = ["--address", target, "--task-queue", h.task_queue, *args, "--json"]
    result = await asyncio.to_thread(CliRunner().invoke, app, argv, standalone_mode=False)
    assert result.exception is None, result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return int(result.return_value or 0), json.loads(lines[0])


def settings_of(h: Harness) -> Settings:
    return Settings(task_queue=h.task_queue)


async def test_a_decision_on_an_ended_run_names_its_outcome(harness: Harness, tmp_path: Path) -> None:
    handle = await ops.start_onboarding(harness.client, settings_of(harness), supplier_request("new-supplier"))
    await handle.result()

    code, shown = await cli(harness, "status", "VM-200417")  # the vendor id names the run
    assert code == 0 and shown["ok"] is True and shown["workflow_id"] == "supplier-onboarding-VM-200417"
    assert shown["status"] == "completed" and shown["outcome"] == "onboarded"

    code, refused = await cli(harness, "approve", "VM-200417", "--reason", "late")
    assert code == 2 and refused["ok"] is False and "status" not in refused
    assert "supplier-onboarding-VM-200417 is completed (outcome onboarded)" in refused["error"]
    assert "no running workflow" not in refused["error"]

    code, unknown = await cli(harness, "status", "VM-999999")
    assert code == 2 and "no run named 'VM-999999'" in unknown["error"]


async def test_po_receive_prints_the_run_and_takes_either_name(harness: Harness, tmp_path: Path) -> None:
    po = purchase_order()
    handle = await ops.start_purchase_order(harness.client, settings_of(harness), po, submitted_by="ana")
    await handle.signal(PurchaseOrderWorkflow.acknowledgement_received, ack(po.po_number))
    await until(handle, lambda s: s.stage == "open")

    code, shown = await cli(harness, "po", "receive", po.po_number, "--line", "1", "--quantity", "5")
    assert code == 0 and set(shown) == RUN_FIELDS, shown
    assert shown["ok"] is True and shown["status"] == "running" and shown["workflow_type"] == "PurchaseOrder"
    assert shown["workflow_id"] == f"purchase-order-{po.po_number}" and shown["ui_url"]
    assert shown["result"]["lines"][0]["received"] == "5"

    code, shown = await cli(
        harness, "po", "receive", f"purchase-order-{po.po_number}", "--line", "1", "--quantity", "1"
    )
    assert code == 0 and shown["result"]["lines"][0]["received"] == "6"

    code, refused = await cli(harness, "po", "receive", "PO-2026-999999", "--line", "1", "--quantity", "1")
    assert code == 2 and refused["ok"] is False and "no run named 'PO-2026-999999'" in refused["error"]
