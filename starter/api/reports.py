"""Operations reports over HTTP: `GET /v1/reports/kpis?since=&until=&format=json|html` (scope
`reports:read`), the KPIs of a window (the last 7 days by default) exactly as `supplybridge report
kpis --json` prints them under `report`, or the self-contained HTML page with charts
(`format=html`, served with a Content-Security-Policy that lets it load nothing).

Decisions:
- The numbers are those of domain/kpis.py over the store's business events and Temporal
  visibility (starter/operations/kpis.py); when visibility cannot be read the answer is still
  200, with the numbers that need it null and a note.
- A principal bound to suppliers (a vendor partner) is refused (403): the report covers every
  supplier, and its failed runs name other suppliers' POs and invoices.
- A window that is not one (`since` not before `until`, longer than a year) is a 422 naming the
  query parameter: a rule across two parameters, which the OpenAPI document cannot state.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from domain.kpi_models import KpiReport
from starter.api.bodies import IsoDatetime
from starter.api.deps import TemporalClient
from starter.api.problems import PROBLEM_RESPONSES, ProblemError
from starter.api.security import Principal, require
from starter.operations.kpis import asked_window, kpi_report
from store import Store

SCOPE = "reports:read"
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=PROBLEM_RESPONSES)
Reader = Annotated[Principal, require(SCOPE)]
KPI_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the KPIs of the window (JSON), or with `format=html` the page with charts",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}


@router.get("/kpis", response_model=KpiReport, responses=KPI_RESPONSES)
async def kpis(
    request: Request,
    principal: Reader,
    temporal: TemporalClient,
    since: Annotated[IsoDatetime | None, Query(description="start of the window [7 days before until]")] = None,
    until: Annotated[IsoDatetime | None, Query(description="end of the window, not included [now]")] = None,
    format: Annotated[Literal["json", "html"], Query(description="json, or html: the page with charts")] = "json",
) -> Response:
    """Onboarding cycle time, PO acknowledgement latency and cycle time, first-pass match rate,
    exception resolution time by team and kind, SLA breaches by team, duplicate suppliers
    prevented, master-data sync accuracy, dead letters open and failed runs, with a row per day."""
    if principal.suppliers:
        raise ProblemError(403, "Forbidden", "the KPI report covers every supplier: a principal bound to suppliers "
                           "may not read it")  # fmt: skip
    try:
        window = asked_window(since, until)
    except ValueError as refused:
        reason = refused.errors()[0]["msg"].removeprefix("Value error, ") if isinstance(refused, ValidationError) \
            else str(refused)  # fmt: skip
        field = "query.until" if until is not None and since is None else "query.since"
        raise ProblemError(422, "Invalid window", f"{field}: {reason}", errors=[{"field": field, "reason": reason}]) \
            from None  # fmt: skip
    store: Store = request.app.state.store
    report = await kpi_report(store, temporal, window)
    if format == "html":
        from starter.report_html import render_kpi_report  # matplotlib: loaded on the first page asked for

        page = await asyncio.to_thread(render_kpi_report, report)
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY})
    return JSONResponse(report.model_dump(mode="json"))
