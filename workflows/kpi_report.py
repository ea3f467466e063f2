"""`kpi-report` (a Temporal Schedule, every `SUPPLYBRIDGE_KPI_REPORT_EVERY_HOURS`, 24 by default):
the operations KPIs of the last day, written to `<state dir>/reports/kpis-<day>.html` and `.json`.

The window ends at the minute the run starts (an interval schedule of 24 hours fires at 00:00
UTC, so a daily run covers the UTC day before) and is `window_hours` long. One activity computes
and writes the report (activities/reports.py): the numbers come from the store's business events
and Temporal visibility, never from the workflow's memory, so a retry or a backfilled tick
writes the same report.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.reports import ReportActivities
    from domain.kpi_models import KpiReportInput, KpiReportWritten, KpiWindow, WriteKpiReportInput
    from workflows.kit.calls import call

WORKFLOW_ID = "kpi-report"


@workflow.defn(name="KpiReport")
class KpiReportWorkflow:
    @workflow.run
    async def run(self, params: KpiReportInput) -> KpiReportWritten:
        until = workflow.now().replace(second=0, microsecond=0)
        window = KpiWindow(since=until - timedelta(hours=params.window_hours), until=until)
        return await call(
            ReportActivities.write_kpi_report,
            WriteKpiReportInput(window=window),
            start_to_close=timedelta(minutes=5),
            summary=f"KPI report of {window.since:%Y-%m-%d %H:%M} - {window.until:%Y-%m-%d %H:%M} UTC",
        )
