"""`supplybridge demo`: the embedded stack, the example suppliers onboarded (the possible duplicate
approved), a supplier suspended in the vendor system and held in the ERP, the example purchase
orders and invoices (PO-2026-000451 acknowledged, received, invoiced and closed; the off-contract
PO approved by pricing and backordered by its vendor, then held when its supplier is suspended;
the price-variance exception resolved with a credit-memo request), each outcome checked against
what examples/README.md promises: a line per scenario as it finishes, then a table of what happened
and the Temporal UI link of each run (starter/demo_report.py)."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx

from adapters.http import SystemClient
from domain.decisions import ExceptionAction, ExceptionResolution, OpenException
from domain.invoice_models import InvoiceResult, InvoiceStatus
from domain.onboarding import OnboardingOutcome, OnboardingResult
from domain.po_models import PoLineProgress, PoResult, PoStatus, ReceiptRequest
from domain.purchasing import Invoice, PurchaseOrder
from domain.status_sync import status_sync_workflow_id
from domain.supplier import SupplierOnboardingRequest
from runtime.erp_choice import erp_adapters
from runtime.settings import Settings
from runtime.signals import stop_event_on_signals
from starter import operations as ops
from starter.demo_edi import edi
from starter.demo_events import events, watch_the_broker
from starter.demo_master_data import master_data
from starter.demo_operations import operations
from starter.demo_replenishment import replenishment
from starter.demo_report import DemoProgress, Row, print_report
from starter.demo_tryton import tryton_records
from starter.output import ExitCode, console, print_json
from starter.stack import EmbeddedStack, erp_description

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


def _detail(view: ops.RunView, result: OnboardingResult | None) -> str:
    if result is not None and result.outcome is OnboardingOutcome.REJECTED:
        return f"{result.rejection_kind}: {'; '.join(str(reason) for reason in result.reasons)}"
    if result is not None and result.erp_supplier_id:
        extra = f" (review: {result.review.resolution.action}d)" if result.review else ""
        return f"ERP supplier {result.erp_supplier_id}{extra}"
    return view.error or view.stage or ""


async def _onboard(stack: EmbeddedStack, scenario: Scenario, examples: Path) -> tuple[Row, OnboardingResult | None]:
    settings, client = stack.settings, stack.client
    assert client is not None
    request = SupplierOnboardingRequest.model_validate_json((examples / "suppliers" / scenario.file).read_text())
    handle = await ops.start_onboarding(client, settings, request)
    view = await ops.wait_until_settled(client, settings, handle.id, 60)
    if scenario.approve and view.stage == "awaiting_review":
        decision = ExceptionResolution(
            action=ExceptionAction.APPROVE, reason="demo: different company", resolved_by="demo"
        )
        await ops.resolve_exception(client, handle.id, decision)
        view = await ops.wait_until_settled(client, settings, handle.id, 60)
    result = view.answer(OnboardingResult)
    ok = view.outcome == scenario.expect_outcome and (
        scenario.expect_detail is None
        or (result is not None and scenario.expect_detail in (result.rejection_kind, result.erp_supplier_id))
    )
    row = Row(scenario.file, handle.id, view.outcome or view.status, _detail(view, result), ok, view.ui_url or "")
    return row, result


async def _suspend_and_watch(stack: EmbeddedStack, vendor_id: str, erp_id: str) -> Row:
    """Suspend in the vendor system; the webhook -> status-sync workflow -> ERP hold."""
    s = stack.settings
    sandbox_erp = SystemClient("erp", s.system_url("erp"), token=s.sandbox_token.get_secret_value())
    async with (
        httpx.AsyncClient(base_url=s.resolved_sandbox_url, headers=_headers(s), timeout=10) as http,
        sandbox_erp,
        erp_adapters(s, sandbox_erp) as erp,  # the sandbox's ERP or Tryton, through the ERP port
    ):
        started = time.monotonic()
        await http.post(
            f"/vendor-management/suppliers/{vendor_id}/status",
            json={"status": "suspended", "reason": "demo: lapsed insurance"},
        )
        status = "?"
        while time.monotonic() - started < 10:
            status = (await erp.erp.get_supplier(erp_id)).status.value
            if status == "on_hold":
                break
            await asyncio.sleep(0.2)
        took = time.monotonic() - started
    workflow_id = status_sync_workflow_id(vendor_id)
    assert stack.client is not None
    try:  # the link opens this run of the status sync
        url = (await ops.describe_run(stack.client, s, workflow_id)).ui_url or s.workflow_url(workflow_id)
    except ops.UnknownRun:  # the webhook never started it: the row says so (not on hold)
        url = s.workflow_url(workflow_id)
    return Row(
        f"{vendor_id} suspended in vendor management",
        workflow_id,
        f"ERP {status}",
        f"{erp_id} {status} {took:.1f}s after the suspension",
        status == "on_hold",
        url,
    )


def _headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.sandbox_token.get_secret_value()}"}


async def _until(
    view_of: Callable[[], Awaitable[ops.RunView]], done: Callable[[ops.RunView], bool], timeout: float = 15.0
) -> ops.RunView:
    """Poll `view_of()` until `done(view)` or the deadline; the last view either way."""
    deadline = time.monotonic() + timeout
    view = await view_of()
    while not done(view) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        view = await view_of()
    return view


def _po_lines(view: ops.RunView) -> list[PoLineProgress]:
    answer = view.answer(PoStatus) or view.answer(PoResult)
    return answer.lines if answer is not None else []


def _open_exception(view: ops.RunView) -> OpenException | None:
    answer = view.answer(PoStatus) or view.answer(InvoiceStatus)
    return answer.open_exception if answer is not None else None


def _held(view: ops.RunView, team: str) -> tuple[bool, OpenException | None]:
    """Is the PO waiting for `team`'s approval? And the exception it waits on."""
    exception = _open_exception(view)
    return view.stage == "awaiting_approval" and exception is not None and exception.team == team, exception


def _invoice_detail(view: ops.RunView, team: str | None, kinds: list[str]) -> str:
    exception = _open_exception(view)
    result = view.answer(InvoiceResult)
    if team:
        summary = exception.summary if exception else "no open exception found"
        return f"{', '.join(kinds)} exception for team {team}: {summary}"
    if view.outcome == "approved":
        return f"approved for payment: {result.approved_amount if result else 'amount not reported'}"
    return f"duplicate of {result.duplicate_of if result else 'an earlier invoice'}: never paid twice"


async def _procurement(stack: EmbeddedStack, examples: Path, progress: DemoProgress) -> None:
    settings, client = stack.settings, stack.client
    assert client is not None

    def row(name: str, view: ops.RunView, ok: bool, detail: str) -> None:
        outcome = view.outcome or view.stage or view.status
        progress.add(Row(name, view.workflow_id, outcome, detail, ok, view.ui_url or ""))

    def po(name: str) -> PurchaseOrder:
        return PurchaseOrder.model_validate_json((examples / "purchase-orders" / name).read_text())

    def invoice(name: str) -> Invoice:
        return Invoice.model_validate_json((examples / "invoices" / name).read_text())

    def describe(workflow_id: str) -> Callable[[], Awaitable[ops.RunView]]:
        return lambda: ops.describe_run(client, settings, workflow_id)

    # PO-2026-000451: released, acknowledged by the vendor channel, then received in full.
    gowns = await ops.start_purchase_order(client, settings, po("po-northgate-gowns.json"), submitted_by="demo")
    view = await _until(describe(gowns.id), lambda v: v.stage == "open")
    for line, quantity in ((1, "20"), (2, "10")):
        await ops.record_receipt(client, "PO-2026-000451", ReceiptRequest(line=line, quantity=Decimal(quantity)))
    view = await ops.describe_run(client, settings, gowns.id)
    row(
        "po-northgate-gowns.json",
        view,
        view.stage == "open" and [ln.received for ln in _po_lines(view)] == [Decimal(20), Decimal(10)],
        "created in the ERP, reserved at LOC-OR-02, vendor notified and acknowledged; 20 CS + 10 BX received",
    )
    # Off-contract price: held for pricing approval; an expired contract: held for contracting.
    held = await ops.start_purchase_order(client, settings, po("po-off-contract-price.json"), submitted_by="demo")
    view = await ops.wait_until_settled(client, settings, held.id, 30)
    ok, exception = _held(view, "pricing")
    what = f"{exception.kind} by team {exception.team}: {exception.summary}" if exception else "no open exception"
    row("po-off-contract-price.json", view, ok, f"held for {what}")
    expired = await ops.start_purchase_order(client, settings, po("po-expired-contract.json"), submitted_by="demo")
    view = await ops.wait_until_settled(client, settings, expired.id, 30)
    ok, exception = _held(view, "contracting")
    what = f"{exception.kind} for team {exception.team}: {exception.summary}" if exception else "no open exception"
    row("po-expired-contract.json", view, ok, f"not released; {what}")

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
        exception, result = _open_exception(view), view.answer(InvoiceResult)
        found = exception.discrepancies if exception else result.discrepancies if result else []
        kinds = [d.kind.value for d in found]
        ok = (
            (view.outcome or view.stage) == state
            and (exception.team if exception else None) == team
            and (kind is None or kinds == [kind])
        )
        row(name, view, ok, _invoice_detail(view, team, kinds))
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
    view = await _until(describe(held.id), lambda v: any(ln.ack_status for ln in _po_lines(v)))
    first = next(iter(_po_lines(view)), None)
    ack, later = (first.ack_status, first.backordered) if first else (None, None)
    row(
        "resolve: approve PO-2026-000452",
        view,
        ack == "backordered",
        f"released; SUP-0001 acknowledged {ack} ({later} CS later)",
    )
    # SUP-0001 suspended in vendor management: its open PO goes on hold.
    async with httpx.AsyncClient(base_url=settings.resolved_sandbox_url, headers=_headers(settings)) as http:
        await http.post("/vendor-management/suppliers/SUP-0001/status", json={"status": "suspended", "reason": "demo"})

    def on_hold(v: ops.RunView) -> bool:
        status = v.answer(PoStatus)
        return status is not None and status.on_hold

    view = await _until(describe(held.id), on_hold)
    row("SUP-0001 suspended", view, on_hold(view), "PO-2026-000452 on hold in the ERP and its workflow")


async def run_demo(settings: Settings, *, keep_running: bool, as_json: bool, examples: Path = EXAMPLES) -> int:
    if settings.state_dir.exists():
        shutil.rmtree(settings.state_dir)
    progress = DemoProgress(console, quiet=as_json)
    progress.say(
        f"Starting the embedded stack (Temporal, sandbox systems, API, worker; ERP {erp_description(settings)})..."
    )
    async with EmbeddedStack(settings, reset_sandbox=True) as stack:
        progress.say(f"Stack ready (Temporal UI {settings.resolved_ui_url}); each scenario as it finishes:")
        broker = await watch_the_broker(stack, progress)
        started = datetime.now(UTC)
        onboarded: list[tuple[Row, OnboardingResult | None]] = []
        for scenario in SUPPLIER_SCENARIOS:
            row, result = await _onboard(stack, scenario, examples)
            onboarded.append((progress.add(row), result))
        new_supplier = next((result for row, result in onboarded if row.name == "new-supplier.json" and row.ok), None)
        if new_supplier is not None and new_supplier.erp_supplier_id:
            progress.add(await _suspend_and_watch(stack, new_supplier.vendor_id, new_supplier.erp_supplier_id))
        if settings.erp == "tryton":  # the supplier and PO examples against Tryton, with its record ids
            await _procurement(stack, examples, progress)
            erp_ids = [result.erp_supplier_id for _, result in onboarded if result and result.erp_supplier_id]
            await tryton_records(stack, progress, sorted(set(erp_ids)))
        else:
            await replenishment(stack, progress)
            await _procurement(stack, examples, progress)
            await edi(stack, examples, progress)
            await master_data(stack, progress)
            await events(stack, progress, broker)
            await operations(stack, progress, started)
        _report(progress, as_json)
        if keep_running:
            console.print("The stack stays up; press Ctrl-C to stop it.")
            await stop_event_on_signals().wait()
    if not as_json:
        console.print(
            f"Browse these runs later: supplybridge up --state-dir {settings.state_dir} "
            f"(Temporal UI at {settings.resolved_ui_url})",
            soft_wrap=True,
        )
    return ExitCode.OK if progress.all_ok else ExitCode.PLATFORM_ERROR


def _report(progress: DemoProgress, as_json: bool) -> None:
    if as_json:
        print_json({"ok": progress.all_ok, "scenarios": [r.__dict__ for r in progress.rows]})
        return
    print_report(console, progress.rows)
    console.print("Open exceptions by team: supplybridge exceptions list [--team pricing]", soft_wrap=True)
    console.print("Each team's open work, with a UI link: supplybridge queues", soft_wrap=True)
