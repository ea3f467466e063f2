"""The demo's operations rows, last: what an operator sees of everything the demo did.

- The KPI report of the demo's window (the same computation as `supplybridge report kpis`), its
  HTML page written to `<state dir>/reports/demo-kpis.html`;
- the API's `/metrics`: the Temporal SDK's metrics and ours, scraped like Prometheus would;
- the alert rules checked now (`alerts-evaluate` triggered, its run awaited): what is open;
- triage: the failed runs (`runs list --failed` reads the same), none expected.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
from temporalio.client import Client, ScheduleOverlapPolicy

from domain.kpi_models import KpiReport, KpiWindow
from starter.demo_report import DemoProgress, Row
from starter.operations.kpis import kpi_report, render_page
from starter.operations.triage import list_failed
from starter.stack import EmbeddedStack
from store import Store
from workflows.alerts import ALERTS_WORKFLOW_ID

WAIT_SECONDS = 30.0


async def operations(stack: EmbeddedStack, progress: DemoProgress, started: datetime) -> None:
    assert stack.client is not None
    progress.add(await _kpis(stack, started))
    progress.add(await _metrics(stack))
    progress.add(await _alerts(stack, stack.client))
    progress.add(await _failed_runs(stack, stack.client))


async def _kpis(stack: EmbeddedStack, started: datetime) -> Row:
    settings = stack.settings
    window = KpiWindow(since=started - timedelta(minutes=1), until=datetime.now(UTC) + timedelta(seconds=1))
    with Store(settings.resolved_store_url, migrate=False) as store:
        report = await kpi_report(store, stack.client, window)
    page = settings.state_dir / "reports" / "demo-kpis.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(await asyncio.to_thread(render_page, report), encoding="utf-8")
    return Row(
        name="KPI report (report kpis)",
        workflow_id="-",
        outcome="written",
        detail=f"{_summary(report)}; the page with charts: {page}",
        ok=report.first_pass_match.decided > 0 and report.onboarding_cycle_time["all"].count > 0,
        url="",
    )


def _summary(report: KpiReport) -> str:
    onboarding = report.onboarding_cycle_time["all"]
    match = report.first_pass_match
    rate = f"{match.rate:.0%}" if match.rate is not None else "-"
    p50 = f"{onboarding.p50_seconds:.1f} s" if onboarding.p50_seconds is not None else "-"
    return (
        f"{onboarding.count} onboardings (p50 {p50}), {report.po_cycle_time.count} POs closed, "
        f"first-pass match {match.first_pass}/{match.decided} ({rate}), "
        f"{report.sla_breaches_total} SLA breaches, {report.dead_letters_open.total} dead letters open"
    )


async def _metrics(stack: EmbeddedStack) -> Row:
    async with httpx.AsyncClient(timeout=10) as http:
        text = (await http.get(f"{stack.settings.api_url}/metrics")).text
    names = {line.split("{", 1)[0].split(" ", 1)[0] for line in text.splitlines() if line and not line.startswith("#")}
    ours = sorted(n for n in names if n.startswith("supplybridge_"))
    sdk = sorted(n for n in names if n.startswith("temporal_"))
    return Row(
        name="metrics (GET /metrics)",
        workflow_id="-",
        outcome="scraped",
        detail=f"{len(sdk)} Temporal SDK series names and {len(ours)} of ours (e.g. "
        f"{', '.join(ours[:2])}) at {stack.settings.api_url}/metrics",
        ok=bool(ours) and bool(sdk),
        url="",
    )


async def _alerts(stack: EmbeddedStack, client: Client) -> Row:
    """Trigger the evaluation and wait for the run it starts (the alerts as of now)."""
    before = datetime.now(UTC)
    await client.get_schedule_handle(ALERTS_WORKFLOW_ID).trigger(overlap=ScheduleOverlapPolicy.BUFFER_ONE)
    evaluated = await _evaluated_since(client, before)
    with Store(stack.settings.resolved_store_url, migrate=False) as store:
        open_alerts = store.alerts.open_alerts()
    names = ", ".join(f"{a.rule_id}/{a.subject}" for a in open_alerts) or "none"
    return Row(
        name="alerts (alerts-evaluate)",
        workflow_id=evaluated or ALERTS_WORKFLOW_ID,
        outcome="evaluated" if evaluated else "not evaluated",
        detail=f"open: {names} (the demo's EDI file with a bad envelope left dead letters); supplybridge alerts list",
        ok=evaluated is not None,
        url=stack.settings.workflow_url(evaluated) if evaluated else "",
    )


async def _evaluated_since(client: Client, since: datetime) -> str | None:
    query = f"WorkflowType = 'AlertsEvaluate' AND ExecutionStatus = 'Completed' AND CloseTime >= '{since.isoformat()}'"
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        async for run in client.list_workflows(query, limit=1):
            return run.id
        await asyncio.sleep(0.5)
    return None


async def _failed_runs(stack: EmbeddedStack, client: Client) -> Row:
    failed = await list_failed(client, stack.settings)
    names = ", ".join(run.workflow_id for run in failed[:3]) or "none"
    return Row(
        name="failed runs (runs list --failed)",
        workflow_id="-",
        outcome=f"{len(failed)} failed",
        detail=f"{names}; a failed run is retried once with supplybridge runs retry",
        ok=not failed,
        url="",
    )
