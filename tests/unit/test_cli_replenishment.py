"""`supplybridge inventory consume`, `replenishment list|status` and `exceptions resolve
--action order_from`: bad arguments are exit 2 naming the field or option (no server needed); a
consumption goes to a real sandbox inventory (refusals exit 2 with its field and reason); the
replenishment commands read runs of a dev server with a worker over fakes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from domain.replenishment_models import StockBreach, replenishment_workflow_id
from domain.system_records import InventoryBalance
from runtime.settings import Settings
from starter.cli import app
from starter.operations.replenishments import deliver_stock_breach, replenishment_status
from tests.api import test_api_v1
from tests.support.harness import Harness, Systems, seeded_systems
from tests.support.sandbox import RunningSandbox, running_sandbox

harness = test_api_v1.harness  # a dev server (visibility) and a worker over fakes
LOCATION, ITEM = "LOC-CS-01", "ITM-1001"


def cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, [*args, "--json"], env=env, standalone_mode=False)
    assert result.exception is None, result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return int(result.return_value or 0), json.loads(lines[0])


def text(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "80", **(env or {})}, standalone_mode=False)
    assert result.exception is None, result.exception
    return int(result.return_value or 0), result.output


# --- arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fields"),
    [
        ([LOCATION, ITEM, "plenty"], ["quantity"]),
        ([LOCATION, ITEM, "0"], ["quantity"]),
        (["LOC CS", ITEM, "2", "--uom", "cs"], ["location_id", "uom"]),
    ],
)
def test_a_bad_consumption_is_exit_2_naming_each_field(args: list[str], fields: list[str]) -> None:
    code, out = cli("inventory", "consume", *args)
    assert code == 2 and out["ok"] is False and out["error"] == "invalid consumption"
    assert [e["field"] for e in out["errors"]] == fields


def test_order_from_options_are_refused_with_another_action_and_required_with_order_from() -> None:
    code, out = cli("exceptions", "resolve", "replenishment-X-Y", "--action", "dismiss", "--reason", "not needed",
                    "--supplier", "SUP-0002")  # fmt: skip
    assert code == 2 and out["errors"] == [
        {"field": "--supplier", "reason": "only with --action order_from, not dismiss"}
    ]
    code, out = cli("exceptions", "resolve", "replenishment-X-Y", "--action", "order_from", "--reason", "buy it",
                    "--supplier", "SUP-0002")  # fmt: skip
    assert code == 2 and [e["field"] for e in out["errors"]] == ["--price"]
    code, out = cli("exceptions", "resolve", "replenishment-X-Y", "--action", "order_from", "--reason", "buy it",
                    "--supplier", "SUP-0002", "--price", "-1", "--uom", "cs")  # fmt: skip
    assert code == 2 and {e["field"] for e in out["errors"]} == {"--price", "--uom"}


def test_the_action_choices_and_the_token_systems_name_the_replenishment_ones() -> None:
    usage = CliRunner().invoke(app, ["exceptions", "resolve", "x", "--action", "order-from", "--reason", "buy it"])
    assert (
        usage.exit_code == 2 and "order_from, dismiss" in usage.output and "did you mean 'order_from'?" in usage.output
    )
    code, out = cli(
        "token", "issue", "--subject", "inventory-bridge", "--scopes", "events:write", "--system", "inventory"
    )
    assert code == 0 and out["ok"] is True and out["systems"] == ["inventory"]


# --- inventory consume, against a real sandbox -----------------------------------------------


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    with running_sandbox(tmp_path) as running:
        yield running


def sandbox_env(sandbox: RunningSandbox) -> dict[str, str]:
    return {"SUPPLYBRIDGE_INVENTORY_URL": sandbox.system_url("inventory"), "SUPPLYBRIDGE_SANDBOX_TOKEN": "test-token"}


def test_a_consumption_reports_the_balance_and_the_breach_it_raised(sandbox: RunningSandbox) -> None:
    env = sandbox_env(sandbox)
    code, above = cli("inventory", "consume", LOCATION, ITEM, "1", env=env)  # 14 CS on hand, reorder point 12
    assert code == 0 and above["ok"] is True and above["breached"] is False and above["event_id"] is None
    assert Decimal(above["on_hand"]) == 13 and above["uom"] == "CS"

    code, below = cli("inventory", "consume", LOCATION, ITEM, "2", "--reference", "CART-7", env=env)
    assert code == 0 and below["breached"] is True and below["event_id"]
    assert Decimal(below["on_hand"]) == 11 and below["consumption_id"] != above["consumption_id"]
    assert below["follow"] == f"supplybridge replenishment status {LOCATION} {ITEM}"

    code, shown = text("inventory", "consume", LOCATION, ITEM, "1", env=env)
    assert code == 0 and "10 CS" in shown and "breached" in shown
    assert f"supplybridge replenishment status {LOCATION} {ITEM}" in shown.splitlines()


def test_a_refused_consumption_is_exit_2_with_the_inventorys_field_and_reason(sandbox: RunningSandbox) -> None:
    env = sandbox_env(sandbox)
    code, out = cli("inventory", "consume", LOCATION, ITEM, "500", env=env)
    assert code == 2 and out["ok"] is False and "refused" in out["error"]
    assert [e["field"] for e in out["errors"]] == ["quantity"] and "more than on_hand" in out["errors"][0]["reason"]
    code, out = cli("inventory", "consume", LOCATION, "ITM-9999", "1", env=env)
    assert code == 2 and out["errors"][0]["field"] == "item_id" and "ITM-9999" in out["errors"][0]["reason"]
    code, out = cli("inventory", "consume", LOCATION, ITEM, "1", env={**env, "SUPPLYBRIDGE_SANDBOX_TOKEN": "wrong"})
    assert code == 1 and "SUPPLYBRIDGE_SANDBOX_TOKEN" in out["error"]


# --- replenishment list|status, against a dev server -----------------------------------------


@pytest.fixture
def systems() -> Systems:
    systems = seeded_systems()  # no contract prices ITM-1001: a sourcing exception for purchasing
    systems.inventory.set_balance(InventoryBalance(location_id=LOCATION, item_id=ITEM, uom="CS", on_hand=Decimal(3),
                                                   par=Decimal(40), reorder_point=Decimal(12)))  # fmt: skip
    return systems


async def run_cli(h: Harness, *args: str, as_json: bool = True) -> tuple[int, Any]:
    target = h.env.client.service_client.config.target_host
    argv = ["--address", target, "--task-queue", h.task_queue, *args, *(["--json"] if as_json else [])]
    result = await asyncio.to_thread(CliRunner().invoke, app, argv, env={"COLUMNS": "80"}, standalone_mode=False)
    assert result.exception is None, result.exception
    if not as_json:
        return int(result.return_value or 0), result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return int(result.return_value or 0), json.loads(lines[0])


async def test_status_and_list_follow_a_replenishment_to_its_order(harness: Harness) -> None:
    code, missing = await run_cli(harness, "replenishment", "status", LOCATION, ITEM)
    assert code == 1 and missing["ok"] is False and f"no replenishment of {ITEM} at {LOCATION}" in missing["error"]
    breach = StockBreach(event_id="INV-EVT-000001", location_id=LOCATION, item_id=ITEM, uom="CS", on_hand=Decimal(3),
                         reorder_point=Decimal(12), par=Decimal(40), occurred_at=datetime.now(UTC))  # fmt: skip
    await deliver_stock_breach(harness.client, Settings(task_queue=harness.task_queue), breach)

    code, waiting = await run_cli(harness, "replenishment", "status", LOCATION, ITEM, "--wait", "20")
    assert code == 0 and waiting["ok"] is True, waiting  # it waits for purchasing: no order comes by itself
    assert waiting["stage"] == "awaiting_sourcing_decision" and waiting["order"] is None
    assert waiting["open_exception"]["allowed_actions"] == ["order_from", "dismiss"]
    code, shown = await run_cli(harness, "replenishment", "status", LOCATION, ITEM, as_json=False)
    assert code == 0 and "sourcing_exception for team purchasing" in shown and "order_from, dismiss" in shown
    assert f"none: no contract in force prices {ITEM}" in shown

    workflow_id = replenishment_workflow_id(LOCATION, ITEM)
    code, decided = await run_cli(harness, "exceptions", "resolve", workflow_id, "--action", "order_from",
                                  "--reason", "spot buy from Northgate", "--supplier", "SUP-0002", "--price", "12.50",
                                  "--uom", "CS", "--no-wait")  # fmt: skip
    assert code in (0, 1) and decided["workflow_id"] == workflow_id, decided
    code, ordered = await run_cli(harness, "replenishment", "status", LOCATION, ITEM, "--wait", "20")
    assert code == 0 and ordered["order"]["supplier_id"] == "SUP-0002", ordered
    assert ordered["order"]["uom"] == "CS" and Decimal(ordered["order"]["quantity"]) == 37  # par 40 - on hand 3
    assert ordered["order"]["chosen_by"] != "sourcing"
    assert [d["resolution"]["action"] for d in ordered["decisions"]] == ["order_from"]
    status = await replenishment_status(harness.client, LOCATION, ITEM)
    assert status is not None and status.order is not None

    po_number = status.order.po_number
    for _ in range(200):  # visibility follows the run shortly
        code, listed = await run_cli(harness, "replenishment", "list")
        if listed["replenishments"]:
            break
        await asyncio.sleep(0.05)
    assert code == 0 and [r["workflow_id"] for r in listed["replenishments"]] == [workflow_id]
    code, lines = await run_cli(harness, "replenishment", "list", as_json=False)
    [line] = [line for line in lines.splitlines() if line.strip()]
    for value in (LOCATION, ITEM, f"PO {po_number}", "supplier SUP-0002", "37 CS", "1 breach"):
        assert value in line, line
