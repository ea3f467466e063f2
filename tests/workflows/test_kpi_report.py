"""The daily KPI report: its activity computes the KPIs of the window through its `kpis` port and
writes `kpis-<last day>.json` (the report) and `.html` (the rendered page) whole, again on a
retry; the `KpiReport` workflow, as the `kpi-report` schedule starts it, asks for the 24 hours up
to the minute it runs. Fakes stand in for the store, Temporal visibility and the charts."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.reports import ReportActivities, ReportPorts
from domain.kpi_models import (
    DeadLetterCounts,
    KpiInputs,
    KpiReport,
    KpiReportInput,
    KpiReportWritten,
    KpiWindow,
    WriteKpiReportInput,
)
from domain.kpis import compute_kpis
from runtime import binaries
from runtime.settings import Settings
from runtime.temporal_client import data_converter
from tests.support.kpi_traffic import DAY, day_of_traffic
from worker import activity_functions, workflow_runner
from workflows.kpi_report import KpiReportWorkflow


class FakeKpis:
    """The report of the day of traffic, over whatever window is asked for (which it records)."""

    def __init__(self) -> None:
        self.windows: list[KpiWindow] = []

    async def __call__(self, window: KpiWindow) -> KpiReport:
        self.windows.append(window)
        traffic = day_of_traffic()
        return compute_kpis(KpiInputs(window=window, generated_at=window.until, events=traffic.events,
                                      onboarding_runs=traffic.onboarding_runs, failed_runs=traffic.other_runs,
                                      dead_letters=DeadLetterCounts(intake_open=1, deliveries_dead=2)))  # fmt: skip


def page(report: KpiReport) -> str:
    return f"<!doctype html><p>{report.sla_breaches_total} breaches</p>"


async def test_the_activity_writes_the_report_and_its_page_named_after_the_last_day(tmp_path: Path) -> None:
    kpis = FakeKpis()
    reports = ReportActivities(ports=ReportPorts(kpis=kpis, render_html=page, directory=tmp_path / "reports"))

    written = await ActivityEnvironment().run(reports.write_kpi_report, WriteKpiReportInput(window=DAY))

    assert kpis.windows == [DAY]
    assert written.json_file == str(tmp_path / "reports" / "kpis-2026-11-24.json")
    assert (written.failed_runs, written.sla_breaches, written.dead_letters_open) == (2, 5, 3)
    report = KpiReport.model_validate_json(Path(written.json_file).read_text())
    assert report.first_pass_match.decided == 3 and report.window == DAY
    assert Path(written.html_file).read_text() == "<!doctype html><p>5 breaches</p>"
    again = await ActivityEnvironment().run(reports.write_kpi_report, WriteKpiReportInput(window=DAY))  # a retry
    assert again == written
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == ["kpis-2026-11-24.html", "kpis-2026-11-24.json"]


async def test_the_scheduled_workflow_reports_the_last_24_hours_up_to_the_minute(tmp_path: Path) -> None:
    kpis = FakeKpis()
    reports = ReportActivities(ports=ReportPorts(kpis=kpis, render_html=page, directory=tmp_path))
    converter = data_converter(Settings(environment="development"))
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=converter, test_server_existing_path=str(binaries.test_server_path())
    ) as env:
        queue = f"test-{uuid.uuid4()}"
        worker = Worker(env.client, task_queue=queue, workflows=[KpiReportWorkflow], workflow_runner=workflow_runner(),
                        activities=activity_functions(reports))  # fmt: skip
        async with worker:
            written = await env.client.execute_workflow(
                KpiReportWorkflow.run, KpiReportInput(), id=f"kpi-report-{uuid.uuid4()}", task_queue=queue
            )
    assert isinstance(written, KpiReportWritten)
    [window] = kpis.windows
    assert window.until.second == window.until.microsecond == 0
    assert window.until - window.since == timedelta(hours=24) and written.window == window
    assert Path(written.html_file).name == f"kpis-{window.last_day.isoformat()}.html"
