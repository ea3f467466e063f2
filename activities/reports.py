"""The daily KPI report's activity: compute the KPIs of a window and write them to the reports
directory as `kpis-<day>.json` (the `KpiReport`, as `GET /v1/reports/kpis` answers it) and
`kpis-<day>.html` (the page `supplybridge report kpis --html` writes), `<day>` being the last UTC
day the window covers.

Its dependencies are ports passed in (`ReportPorts`), so importing this module loads no store,
HTTP or charting code and the tests pass fakes: `kpis` computes the report of a window (the
worker passes starter/operations/kpis.py `report_source`: the store and Temporal visibility),
`render_html` renders it (starter/report_html.py), `directory` is `<state dir>/reports`.

Each file is written to a temporary name and renamed, so a reader never sees half a report and a
retried activity simply writes it again (the same window gives the same numbers, bar the time it
was generated and what happened to dead letters meanwhile).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from temporalio import activity

from domain.kpi_models import KpiReport, KpiReportWritten, KpiWindow, WriteKpiReportInput


@dataclass(frozen=True)
class ReportPorts:
    kpis: Callable[[KpiWindow], Awaitable[KpiReport]]
    render_html: Callable[[KpiReport], str]
    directory: Path


def report_stem(window: KpiWindow) -> str:
    return f"kpis-{window.last_day.isoformat()}"


class ReportActivities:
    def __init__(self, *, ports: ReportPorts) -> None:
        self._ports = ports

    @activity.defn(name="write_kpi_report")
    async def write_kpi_report(self, params: WriteKpiReportInput) -> KpiReportWritten:
        """The KPIs of `params.window`, written as JSON and HTML; returns where, with a few headline numbers."""
        report = await self._ports.kpis(params.window)
        page = await asyncio.to_thread(self._ports.render_html, report)  # charts take a second of CPU
        stem = self._ports.directory / report_stem(params.window)
        json_file, html_file = stem.with_suffix(".json"), stem.with_suffix(".html")
        await asyncio.to_thread(_write, json_file, report.model_dump_json(indent=2))
        await asyncio.to_thread(_write, html_file, page)
        return KpiReportWritten(
            window=params.window,
            json_file=str(json_file),
            html_file=str(html_file),
            failed_runs=report.failed_runs.total,
            sla_breaches=report.sla_breaches_total,
            dead_letters_open=report.dead_letters_open.total,
            notes=report.notes,
        )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
