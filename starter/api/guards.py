"""Request guards: size and media-type limits, rate limits, and the Idempotency-Key contract
of every POST that starts or changes something.

Rate limits are token buckets at two levels. Before authentication, every `/v1` request takes a
token from its client address's bucket (`SUPPLYBRIDGE_ADDRESS_RATE_LIMIT_PER_MINUTE`, 1200 by
default): credential guessing, bad signatures and floods without credentials are limited too.
The address is the connection's peer as the server sees it (behind a proxy, run uvicorn with
`--proxy-headers` and `--forwarded-allow-ips` so it is the client's; a forwarded-for header is
never read here, since a client could forge it). After authentication every principal has its
own bucket (`SUPPLYBRIDGE_RATE_LIMIT_PER_MINUTE`). Every 429 is a problem body with the wait in
a `Retry-After` header (and as `retry_after` in the body).

The Idempotency-Key contract (replay, 422, 409, the in-flight lease, bounded waits) lives in
starter/api/idempotency.py; `idempotent` is re-exported here for the routes.
"""

from __future__ import annotations

import math
import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from starter.api.idempotency import idempotent
from starter.api.problems import ProblemError, problem

__all__ = ["FILE_PATHS", "FORM_PATHS", "AddressRateLimit", "BodyLimits", "RateLimiter", "idempotent"]
FORM_PATHS = frozenset({"/v1/oauth/token"})
# Routes whose body is a file as it is (X12, CSV): any media type, up to `max_file_bytes`.
FILE_PATHS = frozenset({"/v1/intake/files"})


class RateLimiter:
    """A token bucket per key (a principal, or a client address): `per_minute` requests, refilled
    continuously. Buckets that have refilled are forgotten once more than `max_keys` are held
    (a full bucket is the same as none), so many addresses cannot grow memory without bound."""

    def __init__(self, per_minute: int, *, max_keys: int = 10_000) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, *, what: str = "") -> None:
        """Take one request from `key`'s bucket; a 429 `ProblemError` with `Retry-After` when empty."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1 - tokens) / self.rate)
                refused = ProblemError(
                    429,
                    "Too many requests",
                    f"rate limit of {int(self.capacity)} requests a minute{what} reached; retry in {wait} s",
                    retry_after=wait,
                )
                refused.headers["Retry-After"] = str(wait)
                raise refused
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self.max_keys:
                self._forget_refilled(now)

    def _forget_refilled(self, now: float) -> None:
        refill = self.capacity / self.rate
        for key in [k for k, (tokens, last) in self._buckets.items() if now - last >= refill]:
            del self._buckets[key]


class AddressRateLimit:
    """The limit before authentication: every `/v1` request takes a token from its client
    address's bucket, whatever its credentials (see the module docstring)."""

    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app = app
        self.limiter = RateLimiter(per_minute)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["path"] == "/v1" or scope["path"].startswith("/v1/")):
            client = scope.get("client")
            address = client[0] if client else "unknown"
            try:
                self.limiter.check(address, what=" from one address")
            except ProblemError as refused:
                response = problem(refused.status, refused.title, refused.detail, headers=refused.headers,
                                   **refused.extra)  # fmt: skip
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyLimits:
    """413 above `max_bytes` (by Content-Length, or counted while streaming); 415 for a POST/PUT/
    PATCH body that is not JSON (form bodies only where the OAuth2 token endpoint wants them).
    A file route (`FILE_PATHS`) takes a body of any media type up to `max_file_bytes` instead: a
    partner's file is sent as it is, and is far larger than any JSON request."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_file_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_file_bytes = max_file_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        length = headers.get("content-length")
        is_file = scope["path"] in FILE_PATHS
        limit = self.max_file_bytes if is_file else self.max_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            await self._too_large(limit, scope, receive, send)
            return
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        has_body = length not in (None, "0") or "transfer-encoding" in headers
        wanted = "application/x-www-form-urlencoded" if scope["path"] in FORM_PATHS else "application/json"
        if has_body and not is_file and media != wanted and not media.endswith("+json"):
            response = problem(415, "Unsupported media type", f"send the body as {wanted}")
            await response(scope, receive, send)
            return
        if length is None:  # chunked: count the bytes as they arrive, the header says nothing
            buffered = await self._read_at_most(receive, limit)
            if buffered is None:
                await self._too_large(limit, scope, receive, send)
                return
            receive = _replay(buffered, receive)
        await self.app(scope, receive, send)

    async def _read_at_most(self, receive: Receive, limit: int) -> list[Message] | None:
        """The body's messages while they stay within `limit`; None as soon as they do not.

        Reading it here, before the route runs, is what makes an over-long chunked body a 413:
        an error raised while the route's framework reads the body would become its 400."""
        messages: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages
            seen += len(message.get("body", b""))
            if seen > limit:
                return None
            if not message.get("more_body", False):
                return messages

    async def _too_large(self, limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        await problem(413, "Payload too large", f"the body is over {limit} bytes")(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that hands out the messages already read, then the connection's own."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
