"""Alerts over HTTP: `GET /v1/alerts[?all=true&limit=]` (scope `reports:read`), the alerts the
`alerts-evaluate` schedule raised, newest first, as `supplybridge alerts list --json` prints them
(store/alerts.py): the open ones, or with `all=true` the resolved ones too.

Decisions:
- A principal bound to suppliers (a vendor partner) is refused (403): alerts are about the whole
  platform, and a failed run's alert names other suppliers' POs and invoices.
- Reading only: alerts are raised and resolved by their rules, never by hand.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from domain.alerts import Alert
from starter.api.problems import PROBLEM_RESPONSES, ProblemError
from starter.api.security import Principal, require
from store import Store
from store.alerts import AlertRecords

SCOPE = "reports:read"
router = APIRouter(prefix="/v1", tags=["alerts"], responses=PROBLEM_RESPONSES)
Reader = Annotated[Principal, require(SCOPE)]


class AlertList(BaseModel):
    items: list[Alert]


@router.get("/alerts", response_model=AlertList)
async def list_alerts(
    request: Request,
    principal: Reader,
    include_resolved: Annotated[bool, Query(alias="all", description="also the resolved ones")] = False,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many, newest first")] = 100,
) -> JSONResponse:
    """The open alerts (or all), newest first: rule, kind, subject, severity, the team told, when it
    opened, how often it was announced, and its latest measurement."""
    if principal.suppliers:
        raise ProblemError(403, "Forbidden", "alerts are about the whole platform: a principal bound to suppliers "
                           "may not read them")  # fmt: skip
    store: Store = request.app.state.store
    alerts = AlertRecords.of(store)
    found = await asyncio.to_thread(alerts.alerts, include_resolved=include_resolved, limit=limit)
    return JSONResponse(AlertList(items=found).model_dump(mode="json"))
