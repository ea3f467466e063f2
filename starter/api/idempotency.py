"""The Idempotency-Key contract of every POST that starts or changes something.

Keys are kept per principal for `SUPPLYBRIDGE_IDEMPOTENCY_RETENTION_HOURS` (24 by default): the
same key with the same body replays the first response (header `Idempotent-Replayed: true`); the
same key with another body (or path) is 422; while the first request is still running it is 409,
with `Retry-After` saying when its claim runs out. A first attempt that ended in a 5xx (a
dependency down: 503) is forgotten, so it can be retried.

A claim is a lease of `REQUEST_LEASE`: the longest a request may take (starting a run and waiting
for it to settle, 10 s, or waiting for an Update, 12 s, plus the store and audit writes). An API
killed mid-request leaves its claim behind; once the lease ran out, the next retry with the same
body takes it over, runs the request again and returns its outcome. Running it again is safe:
every process is started under its business key and joins the run that is already going.

Every wait is bounded: an Update that is not answered in time (a system it calls is down) is a
202 with the run's `Location`, recorded as the key's response, so a retry never applies it twice.

A route hands its audit entry to `audit_with_answer`; it is written with the request's answer, in
the same transaction that records the answer under the key (one store round trip and one commit
instead of two, and an answer is never kept without its entry). Without a key, or when the claim
is given up after a server error, the entry is appended on its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from domain.audit import AuditRecord
from starter import operations as ops
from starter.api.problems import ProblemError
from starter.api.security import Principal
from store import Store
from store.idempotency import Claim
from store.models import utcnow

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
REQUEST_LEASE = timedelta(seconds=60)


def audit_with_answer(request: Request, entry: AuditRecord) -> None:
    """The request's audit entry, written with its answer (see the module docstring)."""
    request.state.pending_audit = entry


def _pending_audit(request: Request) -> AuditRecord | None:
    entry: AuditRecord | None = getattr(request.state, "pending_audit", None)
    request.state.pending_audit = None
    return entry


async def _append_pending_audit(request: Request, store: Store) -> None:
    entry = _pending_audit(request)
    if entry is not None:
        await asyncio.to_thread(store.audit.append, entry)


def _fingerprint(request: Request, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(request.method.encode() + request.url.path.encode() + b"\n" + canonical).hexdigest()


def still_applying(pending: ops.StillApplying) -> JSONResponse:
    """202: the run has the request and applies it when it can; its Location tells when it did."""
    location = f"/v1/runs/{pending.workflow_id}"
    body = {"workflow_id": pending.workflow_id, "status": "accepted", "detail": str(pending), "location": location}
    return JSONResponse(body, status_code=202, headers={"Location": location})


async def _bounded(run: Callable[[], Awaitable[JSONResponse]]) -> JSONResponse:
    try:
        return await run()
    except ops.StillApplying as pending:
        return still_applying(pending)


async def idempotent(request: Request, principal: Principal, run: Callable[[], Awaitable[JSONResponse]]) -> Response:
    """Run the request once per (principal, Idempotency-Key); see the module docstring."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    store: Store = request.app.state.store
    if key is None:
        try:
            return await _bounded(run)
        finally:
            await _append_pending_audit(request, store)
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ProblemError(422, "Invalid Idempotency-Key", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    fingerprint = _fingerprint(request, await request.body())
    held = await asyncio.to_thread(
        store.idempotency.acquire,
        principal.key,
        key,
        method=request.method,
        path=request.url.path,
        request_hash=fingerprint,
        retention=timedelta(hours=request.app.state.settings.idempotency_retention_hours),
        lease=REQUEST_LEASE,
    )
    if not isinstance(held, Claim):
        if held.request_hash != fingerprint:
            raise ProblemError(
                422, "Idempotency-Key reused", "this Idempotency-Key was used with another request body or path"
            )
        if held.state != "done" or held.status_code is None:
            left = (held.lease_expires_at - utcnow()).total_seconds() if held.lease_expires_at else 1.0
            wait = max(1, math.ceil(left))
            refused = ProblemError(
                409, "Request in progress", f"a request with this Idempotency-Key is still running; retry in {wait} s"
            )
            refused.headers["Retry-After"] = str(wait)
            raise refused
        return Response(
            held.body or "",
            status_code=held.status_code,
            media_type="application/problem+json" if held.status_code >= 400 else "application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    return await _run_claimed(request, store, principal.key, key, held.attempt, run)


async def _run_claimed(
    request: Request, store: Store, principal: str, key: str, attempt: int, run: Callable[[], Awaitable[JSONResponse]]
) -> Response:
    """Run the request under the claim; keep its answer (with its audit entry), or forget the
    claim after a server error."""
    try:
        response = await _bounded(run)
    except ProblemError as refused:
        if refused.status >= 500:
            await _release(request, store, principal, key, attempt)
        else:
            body = {"type": "about:blank", "title": refused.title, "status": refused.status, "detail": refused.detail}
            await _complete(request, store, principal, key, attempt, refused.status, json.dumps(body))
        raise
    except BaseException:
        await _release(request, store, principal, key, attempt)
        raise
    if response.status_code >= 500:
        await _release(request, store, principal, key, attempt)
    else:
        await _complete(request, store, principal, key, attempt, response.status_code, bytes(response.body).decode())
    return response


async def _complete(
    request: Request, store: Store, principal: str, key: str, attempt: int, status: int, body: str
) -> None:
    entry = _pending_audit(request)
    try:
        await asyncio.to_thread(store.idempotency.complete, principal, key, status, body, attempt=attempt, audit=entry)
    except BaseException:  # neither kept: let a retry run it again (and audit it then)
        await asyncio.to_thread(store.idempotency.release, principal, key, attempt=attempt)
        raise


async def _release(request: Request, store: Store, principal: str, key: str, attempt: int) -> None:
    try:
        await asyncio.to_thread(store.idempotency.release, principal, key, attempt=attempt)
    finally:
        await _append_pending_audit(request, store)
