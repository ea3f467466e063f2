"""Replenishment runs over HTTP: `GET /v1/replenishments` (newest first, `?open=true` for the
runs still open) and `GET /v1/replenishments/{location_id}/{item_id}` (the latest run of that
location and item, open or ended; 404 when there never was one). Each run is its workflow's
`status` query (`ReplenishmentStatus`), as `supplybridge replenishment list|status` prints it.

Who may read (the rules of starter/api/access.py, applied to a process purchasing owns):
- the scope is the purchase orders' read scope, `procurement:read` (or `procurement:write`): a
  replenishment is purchasing ordering through a PO;
- team `*`, `purchasing` and `purchasing-managers` see every run; another team sees a run only
  while its next step is theirs (the run's `assigned_team`); a principal bound to suppliers (a
  vendor partner) sees none, since a run shows every contract considered, with other suppliers'
  prices. A run one may not see is 404, as if it did not exist: location and item ids are easy
  to guess;
- nothing is withheld from a run one sees: whoever sees it is of the team deciding its sourcing
  exception or of that team's managers.

The list is read through visibility (a dev server or Temporal Server; not the time-skipping test
server) and filtered after `limit` runs are read, so a caller who sees fewer runs gets fewer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from domain.decisions import PURCHASING_TEAM
from domain.replenishment_models import ReplenishmentStatus
from starter.api import access
from starter.api.bodies import BusinessId
from starter.api.deps import TemporalClient
from starter.api.problems import PROBLEM_RESPONSES, ProblemError
from starter.api.security import ALL_TEAMS, Principal
from starter.operations.replenishments import LIST_LIMIT, list_replenishments, replenishment_status

DEFAULT_LIMIT = 50
router = APIRouter(prefix="/v1/replenishments", tags=["replenishments"], responses=PROBLEM_RESPONSES)
Reader = Annotated[Principal, access.reader(access.PROCUREMENT_READ)]


class ReplenishmentList(BaseModel):
    items: list[ReplenishmentStatus]


def sees(principal: Principal, status: ReplenishmentStatus) -> bool:
    """Whether the principal may see this run (see the module docstring)."""
    if ALL_TEAMS in principal.teams:
        return True
    if principal.suppliers:
        return False
    team = status.assigned_team
    return principal.may_decide_for(PURCHASING_TEAM) or (team is not None and principal.may_decide_for(team))


@router.get("", response_model=ReplenishmentList)
async def list_replenishment_runs(
    principal: Reader,
    temporal: TemporalClient,
    open_only: Annotated[bool, Query(alias="open", description="only the runs still open")] = False,
    limit: Annotated[int, Query(ge=1, le=LIST_LIMIT, description="at most this many runs are read")] = DEFAULT_LIMIT,
) -> JSONResponse:
    """Replenishment runs, newest first: one per run (a location and item replenished twice shows
    twice), each with its stage, outcome, order and open exception."""
    found = await list_replenishments(temporal, open_only=open_only, limit=limit)
    shown = ReplenishmentList(items=[status for status in found if sees(principal, status)])
    return JSONResponse(shown.model_dump(mode="json"))


@router.get("/{location_id}/{item_id}", response_model=ReplenishmentStatus)
async def get_replenishment(
    location_id: BusinessId, item_id: BusinessId, principal: Reader, temporal: TemporalClient
) -> JSONResponse:
    """The latest replenishment run of an item at a location (workflow
    `replenishment-<location>-<item>`), open or ended."""
    status = await replenishment_status(temporal, location_id, item_id)
    if status is None or not sees(principal, status):
        raise ProblemError(404, "Not found", f"no replenishment of item {item_id} at location {location_id}")
    return JSONResponse(status.model_dump(mode="json"))
