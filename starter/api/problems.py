"""One error shape for every 4xx and 5xx: RFC 9457 problem details (`application/problem+json`).

Validation failures name each field and the reason (never the value); server errors say only
that something failed, with an id to find the log line: no stack traces or internals.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

logger = logging.getLogger("supplybridge.api")
MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    field: str = Field(description="dotted path of the field, e.g. body.lines.0.quantity")
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    def __init__(self, status: int, title: str, detail: str, *, auth: bool = False, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra
        self.headers: dict[str, str] = {"WWW-Authenticate": 'Bearer realm="supplybridge"'} if auth else {}


def problem(
    status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def field_errors(errors: list[Any]) -> list[dict[str, str]]:
    return [{"field": ".".join(str(p) for p in e.get("loc", ())) or "body", "reason": e.get("msg", "")} for e in errors]


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, error: ProblemError) -> JSONResponse:
        return problem(error.status, error.title, error.detail, headers=error.headers or None, **error.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = field_errors(list(error.errors()))
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        return problem(422, "Invalid request", detail or "the request is not valid", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        title = _TITLES.get(error.status_code, "Error")
        detail = error.detail if isinstance(error.detail, str) else title
        return problem(error.status_code, title, detail, headers=getattr(error, "headers", None))

    _install_dependency_unavailable(app)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        logger.exception("request %s %s failed (incident %s)", request.method, request.url.path, incident)
        return problem(500, "Internal error", f"the request failed; incident {incident}", incident=incident)


# --- A dependency that is down is a 503 the caller may retry, not a 500 ------------------------
# Temporal unreachable (the client gave up retrying: UNAVAILABLE), overloaded (RESOURCE_EXHAUSTED)
# or too slow to answer within the call's deadline: nothing was decided, so the same request (with
# the same Idempotency-Key) can be sent again after `Retry-After` seconds.
RETRY_AFTER_SECONDS = 5
_TRANSIENT = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.RESOURCE_EXHAUSTED, RPCStatusCode.DEADLINE_EXCEEDED})


def dependency_unavailable(what: str) -> JSONResponse:
    return problem(
        503,
        "Service unavailable",
        f"{what} is unavailable; nothing was changed by this request, retry in {RETRY_AFTER_SECONDS} s",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        retry_after=RETRY_AFTER_SECONDS,
    )


def _install_dependency_unavailable(app: FastAPI) -> None:
    @app.exception_handler(RPCError)
    async def _rpc(request: Request, error: RPCError) -> JSONResponse:
        if error.status in _TRANSIENT:
            logger.warning("Temporal unavailable during %s %s: %s", request.method, request.url.path, error)
            return dependency_unavailable("Temporal (the workflow service)")
        return await _unexpected_rpc(request, error)

    @app.exception_handler(ConnectionError)
    async def _connection(request: Request, error: ConnectionError) -> JSONResponse:
        logger.warning("a dependency is unreachable during %s %s: %s", request.method, request.url.path, error)
        return dependency_unavailable("a service this request needs")


async def _unexpected_rpc(request: Request, error: Exception) -> JSONResponse:
    incident = uuid.uuid4().hex[:12]
    logger.error("request %s %s failed (incident %s): %s", request.method, request.url.path, incident, error)
    return problem(500, "Internal error", f"the request failed; incident {incident}", incident=incident)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "description": title, "content": {MEDIA_TYPE: {}}}
    for status, title in [*_TITLES.items(), (500, "Internal error")]
    if status != 405  # 400: a body that is not parseable JSON ("There was an error parsing the body")
}
