"""`supplybridge demo`: the embedded stack, the example suppliers onboarded (the possible duplicate
approved), a supplier suspended in the vendor system and held in the ERP, each outcome checked
against what examples/README.md promises, and a table of what happened with the Temporal UI link."""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.table import Table

from domain.onboarding import ReviewAction, ReviewDecision
from domain.supplier import SupplierOnboardingRequest
from runtime.settings import Settings
from starter import operations as ops
from starter.output import ExitCode, console, print_json
from starter.stack import EmbeddedStack

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@dataclass
class Scenario:
    file: str
    expect_outcome: str
    expect_detail: str | None = None  # rejection kind, or ERP supplier id
    approve: bool = False


SUPPLIER_SCENARIOS = [
    Scenario("new-supplier.json", "onboarded"),
    Scenario("bad-routing-number.json", "rejected", "validation"),
    Scenario("excluded-on-leie.json", "rejected", "compliance_block"),
    Scenario("existing-supplier.json", "linked", "SUP-0002"),
    Scenario("possible-duplicate.json", "onboarded", approve=True),
]


@dataclass
class Row:
    name: str
    workflow_id: str
    outcome: str
    detail: str
    ok: bool
    url: str


def _detail(view: ops.RunView) -> str:
    result = view.result or {}
    if view.outcome == "rejected":
        reasons = "; ".join(f"{r['field']}: {r['reason']}" for r in result.get("reasons", []))
        return f"{result.get('rejection_kind')}: {reasons}"
    if result.get("erp_supplier_id"):
        review = result.get("review") or {}
        extra = f" (review: {review['action']}d)" if review else ""
        return f"ERP supplier {result['erp_supplier_id']}{extra}"
    return view.error or view.stage or ""


async def _onboard(stack: EmbeddedStack, scenario: Scenario, examples: Path) -> Row:
    settings, client = stack.settings, stack.client
    assert client is not None
    request = SupplierOnboardingRequest.model_validate_json((examples / "suppliers" / scenario.file).read_text())
    handle = await ops.start_onboarding(client, settings, request)
    view = await ops.wait_until_settled(client, settings, handle.id, 60)
    if scenario.approve and view.stage == "awaiting_review":
        await ops.decide_review(
            client,
            handle.id,
            ReviewDecision(action=ReviewAction.APPROVE, reason="demo: different company", decided_by="demo"),
        )
        view = await ops.wait_until_settled(client, settings, handle.id, 60)
    result = view.result or {}
    ok = view.outcome == scenario.expect_outcome and (
        scenario.expect_detail is None
        or scenario.expect_detail in (result.get("rejection_kind"), result.get("erp_supplier_id"))
    )
    return Row(scenario.file, handle.id, view.outcome or view.status, _detail(view), ok, view.ui_url or "")


async def _suspend_and_watch(stack: EmbeddedStack, vendor_id: str, erp_id: str) -> Row:
    """Suspend in the vendor system; the webhook -> status-sync workflow -> ERP hold."""
    s = stack.settings
    headers = {"Authorization": f"Bearer {s.sandbox_token.get_secret_value()}"}
    async with httpx.AsyncClient(base_url=s.resolved_sandbox_url, headers=headers, timeout=10) as http:
        started = time.monotonic()
        await http.post(
            f"/vendor-management/suppliers/{vendor_id}/status",
            json={"status": "suspended", "reason": "demo: lapsed insurance"},
        )
        status = "?"
        while time.monotonic() - started < 10:
            status = (await http.get(f"/erp/suppliers/{erp_id}")).json()["status"]
            if status == "on_hold":
                break
            await asyncio.sleep(0.2)
        took = time.monotonic() - started
    workflow_id = f"supplier-status-{vendor_id}"
    return Row(
        f"{vendor_id} suspended in vendor management",
        workflow_id,
        f"ERP {status}",
        f"{erp_id} {status} {took:.1f}s after the suspension",
        status == "on_hold",
        s.workflow_url(workflow_id),
    )


async def run_demo(settings: Settings, *, keep_running: bool, as_json: bool, examples: Path = EXAMPLES) -> int:
    if settings.state_dir.exists():
        shutil.rmtree(settings.state_dir)
    async with EmbeddedStack(settings, reset_sandbox=True) as stack:
        rows = [await _onboard(stack, scenario, examples) for scenario in SUPPLIER_SCENARIOS]
        new_supplier = next((r for r in rows if r.name == "new-supplier.json" and r.ok), None)
        if new_supplier is not None:
            erp_id = new_supplier.detail.split()[2]
            rows.append(await _suspend_and_watch(stack, "VM-200417", erp_id))
        _report(rows, settings, as_json)
        if keep_running:
            console.print("The stack stays up; press Ctrl-C to stop it.")
            from starter.cli_services import stop_event_on_signals

            await stop_event_on_signals().wait()
    if not as_json:
        console.print(
            f"Browse these runs later: supplybridge up --state-dir {settings.state_dir} "
            f"(Temporal UI at {settings.resolved_ui_url})"
        )
    return ExitCode.OK if all(r.ok for r in rows) else ExitCode.PLATFORM_ERROR


def _report(rows: list[Row], settings: Settings, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "status": "ok" if all(r.ok for r in rows) else "mismatch",
                "scenarios": [r.__dict__ for r in rows],
            }
        )
        return
    table = Table(title="SupplyBridge demo", show_lines=True)
    for column in ("scenario", "outcome", "what happened", "as promised"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r.name, r.outcome, r.detail, "[green]yes[/green]" if r.ok else "[red]NO[/red]")
    console.print(table)
    console.print("Where to look in the Temporal UI:")
    for r in rows:
        console.print(f"  {r.workflow_id:40} {r.url}", soft_wrap=True)
