"""Every 4xx/5xx from the sandbox is `{"code": "<stable_snake_case>", "detail": "<message>"}`.

Details never echo request values (a tax id or bank number could be among them): validation
errors name the field and the rule, not the input.

A request refused before any route ran (unparsable or invalid body, no such route or method) is
noted in its `RequestDisposition`, so the idempotency middleware does not keep that refusal under
the request's Idempotency-Key: only a request the system actually processed claims its key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

logger = logging.getLogger("sandbox")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


@dataclass
class RequestDisposition:
    """Put in a request's ASGI scope by the idempotency middleware (a mutable object, so copies of
    the scope made further in share it); the error handlers below record whether the request was
    refused before its route ran."""

    SCOPE_KEY: ClassVar[str] = "sandbox.request_disposition"
    refused_before_route: bool = False

    def attach(self, scope: Scope) -> None:
        scope[self.SCOPE_KEY] = self

    @classmethod
    def note_refused_before_route(cls, scope: Scope) -> None:
        disposition = scope.get(cls.SCOPE_KEY)
        if isinstance(disposition, cls):
            disposition.refused_before_route = True


class SandboxError(Exception):
    """Raised by routes to answer with a stable error code."""

    def __init__(self, status: int, code: str, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = dict(headers or {})


def error_response(status: int, code: str, detail: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "detail": detail}, status_code=status, headers=dict(headers or {}))


def describe_validation_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """`body.tax_id.value: Field required; query.limit: Input should be greater than or equal to 1`."""
    parts = []
    for error in errors:
        location = ".".join(str(part) for part in error.get("loc", ()))
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is not valid"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SandboxError)
    async def _sandbox_error(_request: Request, exc: SandboxError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        RequestDisposition.note_refused_before_route(request.scope)
        return error_response(422, "validation_error", describe_validation_errors(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Raised by routing and request parsing (404, 405, 400 ...); the sandbox's routes raise SandboxError.
        RequestDisposition.note_refused_before_route(request.scope)
        code = _STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, detail, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled sandbox error: %s", type(exc).__name__)
        return error_response(500, "internal_error", "the sandbox failed to handle the request")
