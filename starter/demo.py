"""`supplybridge demo`: the embedded stack, the example suppliers onboarded (the possible duplicate
approved), a supplier suspended in the vendor system and held in the ERP, the example purchase
orders and invoices (PO-2026-000451 acknowledged, received, invoiced and closed; the off-contract
PO approved by pricing and backordered by its vendor, then held when its supplier is suspended;
the price-variance exception resolved with a credit-memo request), each outcome checked against
what examples/README.md promises, and a table of what happened with the Temporal UI link."""

from __future__ import annotations

import asyncio
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.table import Table

from domain.onboarding import ReviewAction, ReviewDecision
from domain.procurement import ExceptionAction, ExceptionResolution, ReceiptRequest
from domain.purchasing import Invoice, PurchaseOrder
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


def _headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.sandbox_token.get_secret_value()}"}


async def _until(view_of, done, timeout: float = 15.0):
    """Poll `view_of()` until `done(view)` or the deadline; the last view either way."""
    deadline = time.monotonic() + timeout
    view = await view_of()
    while not done(view) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        view = await view_of()
    return view


async def _procurement(stack: EmbeddedStack, examples: Path) -> list[Row]:
    settings, client = stack.settings, stack.client
    assert client is not None
    rows: list[Row] = []

    def row(name: str, view: ops.RunView, ok: bool, detail: str) -> Row:
        found = Row(name, view.workflow_id, view.outcome or view.stage or view.status, detail, ok, view.ui_url or "")
        rows.append(found)
        return found

    def po(name: str) -> PurchaseOrder:
        return PurchaseOrder.model_validate_json((examples / "purchase-orders" / name).read_text())

    def invoice(name: str) -> Invoice:
        return Invoice.model_validate_json((examples / "invoices" / name).read_text())

    def describe(workflow_id: str):
        return lambda: ops.describe_run(client, settings, workflow_id)

    # PO-2026-000451: released, acknowledged by the vendor channel, then received in full.
    gowns = await ops.start_purchase_order(client, settings, po("po-northgate-gowns.json"), submitted_by="demo")
    view = await _until(describe(gowns.id), lambda v: v.stage == "open")
    for line, quantity in ((1, "20"), (2, "10")):
        await ops.record_receipt(client, "PO-2026-000451", ReceiptRequest(line=line, quantity=quantity))
    view = await ops.describe_run(client, settings, gowns.id)
    lines = (view.result or {}).get("lines", [])
    row(
        "po-northgate-gowns.json",
        view,
        view.stage == "open" and [ln["received"] for ln in lines] == ["20", "10"],
        "created in the ERP, reserved at LOC-OR-02, vendor notified and acknowledged; 20 CS + 10 BX received",
    )
    # Off-contract price: held for pricing approval.
    held = await ops.start_purchase_order(client, settings, po("po-off-contract-price.json"), submitted_by="demo")
    view = await ops.wait_until_settled(client, settings, held.id, 30)
    exception = (view.result or {}).get("open_exception") or {}
    row(
        "po-off-contract-price.json",
        view,
        view.stage == "awaiting_approval" and exception.get("team") == "pricing",
        f"held for {exception.get('kind')} by team {exception.get('team')}: {exception.get('summary')}",
    )
    expired = await ops.start_purchase_order(client, settings, po("po-expired-contract.json"), submitted_by="demo")
    view = await ops.wait_until_settled(client, settings, expired.id, 30)
    exception = (view.result or {}).get("open_exception") or {}
    row(
        "po-expired-contract.json",
        view,
        view.stage == "awaiting_approval" and exception.get("team") == "contracting",
        f"not released; {exception.get('kind')} for team {exception.get('team')}: {exception.get('summary')}",
    )

    # Invoices against PO-2026-000451 (exceptions first, so each shows its own discrepancy).
    expected = {
        "inv-price-variance.json": ("awaiting_resolution", "pricing", "price_variance"),
        "inv-over-receipt.json": ("awaiting_resolution", "receiving", "quantity_variance"),
        "inv-clean.json": ("approved", None, None),
        "inv-duplicate.json": ("duplicate_invoice", None, "duplicate_invoice"),
    }
    for name, (state, team, kind) in expected.items():
        handle = await ops.start_invoice(client, settings, invoice(name), submitted_by="demo")
        view = await ops.wait_until_settled(client, settings, handle.id, 30)
        result = view.result or {}
        exception = result.get("open_exception") or {}
        kinds = [d["kind"] for d in exception.get("discrepancies") or result.get("discrepancies") or []]
        ok = (
            (view.outcome or view.stage) == state
            and exception.get("team") == team
            and (kind is None or kinds == [kind])
        )
        detail = (
            f"{', '.join(kinds)} exception for team {team}: {exception.get('summary')}"
            if team
            else f"approved for payment: {result.get('approved_amount')}"
            if view.outcome == "approved"
            else f"duplicate of {result.get('duplicate_of')}: never paid twice"
        )
        row(name, view, ok, detail)
    view = await _until(describe(gowns.id), lambda v: v.outcome == "closed")
    row(
        "PO-2026-000451 after inv-clean",
        view,
        view.outcome == "closed",
        "fully received and invoiced: closed in the ERP",
    )

    # People act: pricing asks for a credit memo; pricing approves the off-contract PO.
    variance_id = "invoice-SUP-0002-NSS-889121"
    await ops.resolve_exception(
        client,
        variance_id,
        ExceptionResolution(
            action=ExceptionAction.REQUEST_CREDIT_MEMO, reason="contract price applies", resolved_by="demo"
        ),
    )
    view = await ops.wait_until_settled(client, settings, variance_id, 30)
    row("resolve: request credit memo", view, view.outcome == "credit_memo_requested", "AP holds it; dispute recorded")
    await ops.resolve_exception(
        client,
        held.id,
        ExceptionResolution(action=ExceptionAction.APPROVE, reason="spot buy approved", resolved_by="demo"),
    )
    view = await _until(
        describe(held.id), lambda v: any(ln.get("ack_status") for ln in (v.result or {}).get("lines", []))
    )
    line = ((view.result or {}).get("lines") or [{}])[0]
    row(
        "resolve: approve PO-2026-000452",
        view,
        line.get("ack_status") == "backordered",
        f"released; SUP-0001 acknowledged {line.get('ack_status')} ({line.get('backordered')} CS later)",
    )
    # SUP-0001 suspended in vendor management: its open PO goes on hold.
    async with httpx.AsyncClient(base_url=settings.resolved_sandbox_url, headers=_headers(settings)) as http:
        await http.post("/vendor-management/suppliers/SUP-0001/status", json={"status": "suspended", "reason": "demo"})
    view = await _until(describe(held.id), lambda v: (v.result or {}).get("on_hold"))
    row(
        "SUP-0001 suspended",
        view,
        bool((view.result or {}).get("on_hold")),
        "PO-2026-000452 on hold in the ERP and its workflow",
    )
    return rows


async def run_demo(settings: Settings, *, keep_running: bool, as_json: bool, examples: Path = EXAMPLES) -> int:
    if settings.state_dir.exists():
        shutil.rmtree(settings.state_dir)
    async with EmbeddedStack(settings, reset_sandbox=True) as stack:
        rows = [await _onboard(stack, scenario, examples) for scenario in SUPPLIER_SCENARIOS]
        new_supplier = next((r for r in rows if r.name == "new-supplier.json" and r.ok), None)
        if new_supplier is not None:
            erp_id = new_supplier.detail.split()[2]
            rows.append(await _suspend_and_watch(stack, "VM-200417", erp_id))
        rows.extend(await _procurement(stack, examples))
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
    for r in {r.workflow_id: r for r in rows}.values():
        console.print(f"  {r.workflow_id:40} {r.url}", soft_wrap=True)
    console.print("Open exceptions by team: supplybridge exceptions list [--team pricing]", soft_wrap=True)
