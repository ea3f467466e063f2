"""Triage over HTTP, as `supplybridge runs list|retry` (starter/operations/triage.py and
triage_retry.py do the work):

- `GET /v1/runs?state=failed|stuck|waiting&type=&since=&limit=` needs `runs:read` (or `runs:write`,
  which implies it: starter/api/access.py): failed runs with their error, runs stuck on a system
  (a line naming the system and the error), runs whose decision is past its SLA.
- `POST /v1/runs/{workflow_id}/retry[?dry_run=true]` and `POST /v1/runs/retry` with
  `{"query", "dry_run", "limit"}` need `runs:write`. Each retry is recorded and audited with the
  principal as the actor (the retry ledger writes the entry), a failure is never retried twice,
  and like every POST they honour `Idempotency-Key`.

Decisions:
- These routes see every process's runs: a principal bound to suppliers (a vendor partner) is
  refused (403), as on the subscription routes.
- `GET /v1/runs/{workflow_id}` (starter/api/v1.py) reads one run; `GET /v1/runs` and
  `POST /v1/runs/retry` do not collide with it (another depth, another method). Only `GET
  /v1/runs/retry` would be read as the run `retry`: it answers 405 (`Allow: POST`) instead, from a
  route of this router, which the app includes before v1's.
- A run that is not retried (not failed, superseded by a newer run, already retried: "already
  retried as run X") is 409 naming why; a reset or start Temporal refused is 409 with its reason,
  Temporal unreachable 503. A query Temporal cannot use is 422 naming `body.query`.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from domain.base import DomainModel
from runtime.settings import Settings
from starter import operations as ops
from starter.api.access import reader
from starter.api.bodies import IsoDatetime, RunId
from starter.api.deps import TemporalClient
from starter.api.guards import idempotent
from starter.api.problems import PROBLEM_RESPONSES, ProblemError, problem
from starter.api.security import Principal, require
from starter.operations import triage
from starter.operations.triage_retry import RetryFailed, RetryLedger, RetryOutcome, retry_matching, retry_run
from store import Store

READ_SCOPE, WRITE_SCOPE = "runs:read", "runs:write"
router = APIRouter(prefix="/v1", tags=["runs"], responses=PROBLEM_RESPONSES)
Reader = Annotated[Principal, reader(READ_SCOPE)]
Writer = Annotated[Principal, require(WRITE_SCOPE)]


class RunState(StrEnum):
    FAILED = "failed"
    STUCK = "stuck"
    WAITING = "waiting"


class RunList(BaseModel):
    state: RunState
    items: list[triage.FailedRun | triage.StuckRun | triage.WaitingRun]


class RetryQuery(DomainModel):
    query: str = Field(min_length=1, max_length=2000, description="a Temporal visibility query; only its failed "
                       "and timed-out runs are retried, e.g. WorkflowType='PurchaseOrder'")  # fmt: skip
    dry_run: bool = Field(default=False, description="say what would be retried and how; change nothing")
    limit: int = Field(default=triage.LIST_LIMIT, ge=1, le=triage.MAX_LIMIT)


class BulkRetry(BaseModel):
    query: str
    dry_run: bool
    retried: int
    would_retry: int
    skipped: int
    failed: int
    items: list[RetryOutcome]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _ledger(request: Request) -> RetryLedger:
    store: Store = request.app.state.store
    return RetryLedger(store)


def _operations_only(principal: Principal) -> None:
    if principal.suppliers:
        raise ProblemError(403, "Not for a vendor partner", "triage shows and retries every supplier's runs; "
                           "a principal bound to suppliers may not")  # fmt: skip


@router.get("/runs", response_model=RunList)
async def list_runs(
    request: Request,
    principal: Reader,
    temporal: TemporalClient,
    state: Annotated[RunState, Query(description="failed, stuck (a system keeps failing) or waiting (past SLA)")],
    workflow_type: Annotated[
        str | None, Query(alias="type", pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$", description="a workflow type")
    ] = None,
    since: Annotated[IsoDatetime | None, Query(description="failed at or after (failed), else started")] = None,
    limit: Annotated[int, Query(ge=1, le=triage.MAX_LIMIT)] = triage.LIST_LIMIT,
) -> JSONResponse:
    """Runs an operator must look at, as `supplybridge runs list` shows them."""
    _operations_only(principal)
    settings = _settings(request)
    filters: dict[str, Any] = {"workflow_type": workflow_type, "since": since, "limit": limit}
    items: list[Any]
    try:
        if state is RunState.FAILED:
            items = await triage.list_failed(temporal, settings, **filters)
        elif state is RunState.STUCK:
            after = timedelta(minutes=settings.stuck_after_minutes)
            items = await triage.list_stuck(temporal, settings, stuck_after=after, **filters)
        else:
            items = await triage.list_waiting(temporal, settings, **filters)
    except triage.TriageRefused as refused:
        raise ProblemError(422, "Invalid filter", str(refused)) from None
    return JSONResponse(RunList(state=state, items=items).model_dump(mode="json"))


@router.post("/runs/retry", response_model=BulkRetry)
async def retry_runs(request: Request, body: RetryQuery, principal: Writer, temporal: TemporalClient) -> Response:
    """Retry every failed run the query matches, each once; `dry_run` lists what it would do."""
    _operations_only(principal)

    async def run() -> JSONResponse:
        try:
            found = await retry_matching(temporal, _settings(request), _ledger(request), body.query,
                                         by=principal.subject, via=principal.via, dry_run=body.dry_run,
                                         limit=body.limit)  # fmt: skip
        except triage.TriageRefused as refused:
            raise ProblemError(422, "Invalid query", str(refused),
                               errors=[{"field": "body.query", "reason": str(refused)}]) from None  # fmt: skip
        counts = {
            kind: sum(o.outcome == kind for o in found) for kind in ("retried", "would_retry", "skipped", "failed")
        }
        answer = BulkRetry(query=body.query, dry_run=body.dry_run, items=found, **counts)
        return JSONResponse(answer.model_dump(mode="json"))

    return await idempotent(request, principal, run)


@router.api_route("/runs/retry", methods=["GET", "PUT", "PATCH", "DELETE"], include_in_schema=False)
async def retry_runs_other_methods() -> Response:
    """Only POST: `GET /v1/runs/retry` is not the run `retry` (see the module docstring)."""
    return problem(405, "Method not allowed", "POST a query to /v1/runs/retry", headers={"Allow": "POST"})


@router.post("/runs/{workflow_id}/retry", response_model=RetryOutcome)
async def retry_one(
    request: Request,
    workflow_id: RunId,
    principal: Writer,
    temporal: TemporalClient,
    dry_run: Annotated[bool, Query(description="say how it would be retried; change nothing")] = False,
) -> Response:
    """Retry the run's failure once: reset to the workflow task before the failed step (or run it
    again from its input). 409 when it is not failed or was already retried."""
    _operations_only(principal)

    async def run() -> JSONResponse:
        try:
            done = await retry_run(temporal, _settings(request), _ledger(request), workflow_id,
                                   by=principal.subject, via=principal.via, dry_run=dry_run)  # fmt: skip
        except ops.UnknownRun as missing:
            raise ProblemError(404, "Not found", str(missing)) from None
        except RetryFailed as failed:
            if failed.unavailable:
                raise ProblemError(503, "Temporal unavailable", failed.outcome.detail) from None
            raise ProblemError(409, "Not retried", failed.outcome.detail) from None
        if done.outcome == "skipped":
            raise ProblemError(409, "Not retried", f"{workflow_id}: {done.detail}")
        return JSONResponse(done.model_dump(mode="json"))

    return await idempotent(request, principal, run)
