"""The demo's master-data and compliance scenarios, after the procure-to-pay ones: records edited
in the sandbox systems, the `master-data-sync-suppliers` Temporal Schedule triggered, each system
read back; a bank account that differs becomes a task, not a change; a supplier put on the
exclusion list after onboarding is held in the ERP after `compliance-rescreen` runs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from domain.master_data.summary import SyncSummary
from runtime.settings import Settings
from starter import operations as ops
from starter.demo_report import DemoProgress, Row
from starter.stack import EmbeddedStack

LEIE = ("LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,"
        "REINDATE,WAIVERDATE,WVRSTATE\n"
        ",,,CASCADIA PHARMA DISTRIBUTION CORP,OTHER BUSINESS,WHOLESALER,,,,9 HARBOR WAY,SEATTLE,WA,98101,1128b7,"
        "20261101,00000000,00000000,\n")  # fmt: skip


async def _eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    """The first truthy answer of `check()` within `timeout` seconds (the last one otherwise)."""
    deadline = time.monotonic() + timeout
    answer = await check()
    while not answer and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        answer = await check()
    return answer


def schedule_url(settings: Settings, schedule_id: str) -> str:
    return f"{settings.resolved_ui_url}/namespaces/{settings.temporal_namespace}/schedules/{schedule_id}"


SYNC_SCHEDULE = "master-data-sync-suppliers"
BANK_TASK = "master-data-conflict-suppliers-VM-100001-vendor_management-bank_account"
REVIEW_TASK = "compliance-review-VM-100003"


async def master_data(stack: EmbeddedStack, progress: DemoProgress) -> None:
    settings = stack.settings
    token = settings.sandbox_token.get_secret_value()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=settings.resolved_sandbox_url, timeout=10, headers=headers) as http:
        progress.add(await _scheduled_sync(stack, http))
        progress.add(await _bank_task(stack))
        progress.add(await _rescreen(stack, http))


async def _scheduled_sync(stack: EmbeddedStack, http: httpx.AsyncClient) -> Row:
    """Three records edited by hand, the schedule triggered, each system read back."""
    settings, client = stack.settings, stack.client
    assert client is not None
    await http.patch("/erp/suppliers/SUP-0004", json={"legal_name": "BAYVIEW ORTHO IMPLANTS"})
    await http.patch("/vendor-management/registrations/VM-100004", json={"payment_terms": "NET15"})
    await http.delete("/analytics/suppliers/VM-100006")
    bank = {"routing_number": "021000021", "account_number": "99998888777", "holder_name": "Lakeshore"}
    await http.patch("/vendor-management/registrations/VM-100001", json={"bank_account": bank})
    schedule = client.get_schedule_handle(SYNC_SCHEDULE)
    await schedule.trigger()

    async def scheduled_run() -> str | None:
        recent = (await schedule.describe()).info.recent_actions
        return str(recent[-1].action.workflow_id) if recent else None  # type: ignore[attr-defined]

    run_id = await _eventually(scheduled_run) or SYNC_SCHEDULE
    view = await _eventually(lambda: _completed(client, settings, run_id))
    summary = view.answer(SyncSummary) if view else None
    if view is None or summary is None:
        return Row(f"{SYNC_SCHEDULE} (Schedule)", run_id, "not run", "the sync did not complete", False,
                   schedule_url(settings, SYNC_SCHEDULE))  # fmt: skip
    name = (await http.get("/erp/suppliers/SUP-0004")).json()["legal_name"]
    terms = (await http.get("/vendor-management/registrations/VM-100004")).json()["payment_terms"]
    analytics = (await http.get("/analytics/suppliers/VM-100006")).status_code
    ok = (name, terms, analytics) == ("Bayview Orthopedic Implants Inc", "NET60", 200)
    detail = (f"ERP name back to vendor management's, terms back to the ERP's {terms}, analytics row recreated; "
              f"accuracy {summary.accuracy:.0%}; {summary.awaiting_decision} record(s) wait for a person "
              f"({summary.conflicts} task(s): the bank difference, and SUP-0002 registered twice in vendor "
              f"management by the existing-supplier onboarding)")  # fmt: skip
    return Row(f"{SYNC_SCHEDULE} (Schedule)", run_id, view.outcome or "completed", detail, ok, view.ui_url or "")


async def _bank_task(stack: EmbeddedStack) -> Row:
    assert stack.client is not None
    task = await ops.open_exception(stack.client, BANK_TASK)
    detail = f"a task for {task.team}; never changed automatically" if task else "no task was opened"
    return Row("bank account differs (VM-100001)", BANK_TASK, "task" if task else "no task", detail,
               task is not None, stack.settings.workflow_url(BANK_TASK))  # fmt: skip


async def _rescreen(stack: EmbeddedStack, http: httpx.AsyncClient) -> Row:
    """A newer LEIE file names SUP-0003; the rescreen suspends it (-> status sync -> ERP hold)."""
    client = stack.client
    assert client is not None
    await http.put("/screening/exclusions", content=LEIE.encode(), headers={"Content-Type": "text/csv"})
    await client.get_schedule_handle("compliance-rescreen").trigger()

    async def held() -> bool:
        return bool((await http.get("/erp/suppliers/SUP-0003")).json()["status"] == "on_hold")

    on_hold = await _eventually(held)
    review = await _eventually(lambda: ops.open_exception(client, REVIEW_TASK))
    detail = "SUP-0003 on the newer exclusion list: held in the ERP, a review task for compliance"
    return Row("compliance-rescreen (Schedule)", REVIEW_TASK, "ERP on_hold" if on_hold else "not held", detail,
               bool(on_hold and review), stack.settings.workflow_url(REVIEW_TASK))  # fmt: skip


async def _completed(client: Any, settings: Settings, workflow_id: str) -> ops.RunView | None:
    try:
        view = await ops.describe_run(client, settings, workflow_id)
    except ops.UnknownRun:
        return None
    return view if view.status == "completed" else None
