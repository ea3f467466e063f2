"""Recorded workflow histories for the replay tests.

`python -m tests.workflows.histories` runs each scenario over the fakes and writes its history
to tests/workflows/histories/<name>.json. Re-record only on purpose: a history recorded by the
previous code that no longer replays means the change breaks running workflows (it needs
`workflow.patched`), not that the file is stale.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.events import VendorStatus, VendorStatusEvent
from domain.onboarding import OnboardSupplierInput, ReviewAction, ReviewDecision
from domain.status_sync import StatusSyncInput
from tests.examples import supplier_request
from tests.workflows.conftest import Systems, running_harness
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.status_sync import SupplierStatusSyncWorkflow

HISTORY_DIR = Path(__file__).parent / "histories"
Scenario = Callable[[Client, str, WorkflowEnvironment], Awaitable[WorkflowHandle]]


async def _onboard(client: Client, queue: str, name: str) -> WorkflowHandle:
    return await client.start_workflow(
        SupplierOnboardingWorkflow.run,
        OnboardSupplierInput(request=supplier_request(name), review_sla=timedelta(hours=2)),
        id=f"replay-{name}-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
    )


async def new_supplier(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    handle = await _onboard(client, queue, "new-supplier")
    await handle.result()
    return handle


async def duplicate_escalated_then_approved(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    handle = await _onboard(client, queue, "possible-duplicate")
    await env.sleep(timedelta(hours=3))
    await handle.execute_update(
        SupplierOnboardingWorkflow.decide_review,
        ReviewDecision(action=ReviewAction.APPROVE, reason="recorded"),
    )
    await handle.result()
    return handle


async def bad_routing_number(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    handle = await _onboard(client, queue, "bad-routing-number")
    await handle.result()
    return handle


async def status_sync(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    def event(status: VendorStatus) -> VendorStatusEvent:
        return VendorStatusEvent(
            event_id=f"evt-{status.value}",
            vendor_id="VM-100002",
            erp_supplier_id="SUP-0002",
            status=status,
            occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
        )

    handle = await client.start_workflow(
        SupplierStatusSyncWorkflow.run,
        StatusSyncInput(vendor_id="VM-100002"),
        id=f"replay-status-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
        start_signal="status_changed",
        start_signal_args=[event(VendorStatus.SUSPENDED)],
    )
    await handle.signal(SupplierStatusSyncWorkflow.status_changed, event(VendorStatus.REINSTATED))
    await handle.result()
    return handle


SCENARIOS: dict[str, Scenario] = {
    "onboarding-new-supplier": new_supplier,
    "onboarding-duplicate-escalated-approved": duplicate_escalated_then_approved,
    "onboarding-bad-routing-number": bad_routing_number,
    "status-sync-suspend-reinstate": status_sync,
}


async def record() -> None:
    HISTORY_DIR.mkdir(exist_ok=True)
    for name, scenario in SCENARIOS.items():
        systems = Systems()
        systems.erp.seed("SUP-0001", "Lakeshore Medical Products Inc", "36-4412098")
        systems.erp.seed("SUP-0002", "Northgate Surgical Supply LLC", "52-1987345")
        async with running_harness(systems) as h:
            handle = await scenario(h.client, h.task_queue, h.env)
            history = await handle.fetch_history()
        (HISTORY_DIR / f"{name}.json").write_text(history.to_json())
        print(f"recorded {name}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record())
