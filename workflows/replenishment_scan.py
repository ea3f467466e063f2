"""`replenishment-scan` (a Temporal Schedule, every 15 minutes by default): the safety net of the
inventory webhook. It reads every balance at or below its reorder point and hands each to its
replenishment by signal-with-start: a breach whose event was lost starts one, a breach already
being replenished joins it and orders nothing more. One heartbeating activity does the batch
(one workflow per business object: the replenishments, not one per balance read)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.replenishment import ReplenishmentActivities
    from domain.replenishment_models import ReplenishmentPolicy, ScanInput, ScanResult
    from workflows.kit.calls import call


@workflow.defn(name="ReplenishmentScan")
class ReplenishmentScanWorkflow:
    def __init__(self) -> None:
        self._result = ScanResult()

    @workflow.run
    async def run(self, policy: ReplenishmentPolicy) -> ScanResult:
        scan = ScanInput(scan_id=workflow.info().workflow_id, scanned_at=workflow.now(), policy=policy)
        self._result = await call(
            ReplenishmentActivities.scan_for_breaches,
            scan,
            start_to_close=timedelta(minutes=10),
            heartbeat=timedelta(seconds=60),
            summary="balances at or below their reorder point",
        )
        return self._result

    @workflow.query(name="status")
    def status(self) -> ScanResult:
        """Empty until the scan's activity is done."""
        return self._result
