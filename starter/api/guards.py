"""Request guards: size and media-type limits, per-principal rate limits, and the
Idempotency-Key contract of every POST that starts or changes something.

Idempotency (keys kept per principal for `SUPPLYBRIDGE_IDEMPOTENCY_RETENTION_HOURS`, 24 by
default): the same key with the same body replays the first response (header
`Idempotent-Replayed: true`); the same key with another body is 422; while the first request is
still running it is 409. A first attempt that ended in a 5xx is forgotten, so it can be retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from starter.api.problems import ProblemError, problem
from starter.api.security import Principal
from store import Store

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
FORM_PATHS = frozenset({"/v1/oauth/token"})


class RateLimiter:
    """A token bucket per principal: `per_minute` requests, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1 - tokens) / self.rate)
                raise ProblemError(
                    429,
                    "Too many requests",
                    f"rate limit of {int(self.capacity)} requests a minute reached; retry in {wait} s",
                    retry_after=wait,
                )
            self._buckets[key] = (tokens - 1, now)


class BodyLimits:
    """413 above `max_bytes` (by Content-Length, or counted while streaming); 415 for a POST/PUT/
    PATCH body that is not JSON (form bodies only where the OAuth2 token endpoint wants them)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._too_large(scope, receive, send)
            return
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        has_body = length not in (None, "0") or "transfer-encoding" in headers
        wanted = "application/x-www-form-urlencoded" if scope["path"] in FORM_PATHS else "application/json"
        if has_body and media != wanted and not media.endswith("+json"):
            response = problem(415, "Unsupported media type", f"send the body as {wanted}")
            await response(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise ProblemError(413, "Payload too large", f"the body is over {self.max_bytes} bytes")
            return message

        await self.app(scope, counted, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        await problem(413, "Payload too large", f"the body is over {self.max_bytes} bytes")(scope, receive, send)


def _fingerprint(request: Request, body: bytes) -> str:
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(request.method.encode() + request.url.path.encode() + b"\n" + canonical).hexdigest()


async def idempotent(request: Request, principal: Principal, run: Callable[[], Awaitable[JSONResponse]]) -> Response:
    """Run the request once per (principal, Idempotency-Key); see the module docstring."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        return await run()
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ProblemError(422, "Invalid Idempotency-Key", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
    store: Store = request.app.state.store
    retention = timedelta(hours=request.app.state.settings.idempotency_retention_hours)
    fingerprint = _fingerprint(request, await request.body())
    existing = await asyncio.to_thread(
        store.idempotency.claim,
        principal.key,
        key,
        method=request.method,
        path=request.url.path,
        request_hash=fingerprint,
        retention=retention,
    )
    if existing is not None:
        if existing.state != "done" or existing.status_code is None:
            raise ProblemError(409, "Request in progress", "a request with this Idempotency-Key is still running")
        if existing.request_hash != fingerprint:
            raise ProblemError(
                422, "Idempotency-Key reused", "this Idempotency-Key was used with another request body or path"
            )
        return Response(
            existing.body or "",
            status_code=existing.status_code,
            media_type="application/problem+json" if existing.status_code >= 400 else "application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        response = await run()
    except ProblemError as refused:
        if refused.status >= 500:
            await asyncio.to_thread(store.idempotency.release, principal.key, key)
        else:
            body = {"type": "about:blank", "title": refused.title, "status": refused.status, "detail": refused.detail}
            await asyncio.to_thread(store.idempotency.complete, principal.key, key, refused.status, json.dumps(body))
        raise
    except BaseException:
        await asyncio.to_thread(store.idempotency.release, principal.key, key)
        raise
    if response.status_code >= 500:
        await asyncio.to_thread(store.idempotency.release, principal.key, key)
    else:
        await asyncio.to_thread(
            store.idempotency.complete, principal.key, key, response.status_code, bytes(response.body).decode()
        )
    return response
