"""Idempotency-Key handling for every change request, as an ASGI middleware.

Modelled on the IETF draft "The Idempotency-Key HTTP Header Field" and on how real payment APIs
behave. The answer (status and body) to a POST/PUT/PATCH carrying an `Idempotency-Key` is
stored per (system, method, path, key) with a hash of the request body, but only when the
request was processed:

- the whole body must arrive first: a client that disconnects mid-request (killed, timed out)
  has nothing run and claims nothing, so its honest retry runs normally;
- a request refused before its route ran (unparsable or invalid body, no such route; see
  `RequestDisposition`) is answered but not stored, so a corrected retry with the key runs;
- a 5xx is not stored, so a retry after a real server error runs again.

The same key with the same body then replays the stored answer byte for byte (header
`Idempotent-Replayed: true`); with another body it is refused with 422 `idempotency_key_reused`.
A request whose key is still being processed (a client's retry racing its own first attempt)
waits for that attempt, up to `in_flight_wait_seconds`, and gets its answer replayed; past that
it is refused with 409 `idempotency_key_in_flight` and a Retry-After. The in-flight registry is
in memory: the sandbox is one process.

All change requests (with or without a key) run one at a time under one lock, taken once their
body has arrived: the sandbox is a reference system, not a throughput test, and serialising
writes makes id allocation and the duplicate-tax-id check race-free without tying them to one
database's locking. A key's look-up and store happen under its in-flight claim.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import TypeAlias

import anyio.to_thread
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.db import IdempotencyRecord, SandboxDatabase, utc_now
from sandbox.errors import RequestDisposition, error_response

KEYED_METHODS = frozenset({"POST", "PUT", "PATCH"})
CHANGING_METHODS = KEYED_METHODS | {"DELETE"}
MAX_KEY_LENGTH = 255
IN_FLIGHT_WAIT_SECONDS = 10.0
IN_FLIGHT_RETRY_AFTER_SECONDS = 1
Identity: TypeAlias = tuple[str, str, str, str]
"""(system, method, path, key)"""


def body_fingerprint(body: bytes) -> str:
    """Hash of the canonical JSON when the body is JSON, so key order does not matter."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


class IdempotencyMiddleware:
    def __init__(
        self, app: ASGIApp, database: SandboxDatabase, *, in_flight_wait_seconds: float = IN_FLIGHT_WAIT_SECONDS
    ) -> None:
        self.app = app
        self.database = database
        self.in_flight_wait_seconds = in_flight_wait_seconds
        self._write_lock = asyncio.Lock()
        self._in_flight: dict[Identity, asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in CHANGING_METHODS:
            await self.app(scope, receive, send)
            return
        key = _header(scope, b"idempotency-key") if scope["method"] in KEYED_METHODS else None
        if key is not None and not 0 < len(key) <= MAX_KEY_LENGTH:
            await error_response(
                422, "invalid_idempotency_key", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters"
            )(scope, receive, send)
            return
        # Read before taking the write lock: a slow or stalled client must not hold up every write.
        body = await _read_body(receive)
        if body is None:
            return  # the client left before its request was complete: nothing runs, nobody to answer
        if key is None:
            async with self._write_lock:
                await self.app(scope, _replaying(body, receive), send)
            return
        identity = (_system(scope), scope["method"], scope["path"], key)
        await self._keyed(scope, _replaying(body, receive), send, identity, body_fingerprint(body))

    async def _keyed(self, scope: Scope, receive: Receive, send: Send, identity: Identity, fingerprint: str) -> None:
        claim = await self._claim(identity)
        if claim is None:
            await _in_flight_response()(scope, receive, send)
            return
        try:
            answer = await self._answer(scope, receive, identity, fingerprint)
        finally:
            del self._in_flight[identity]
            claim.set()
        await answer(scope, receive, send)

    async def _answer(
        self, scope: Scope, receive: Receive, identity: Identity, fingerprint: str
    ) -> Response | _CapturedResponse:
        """Under the claim: the stored answer when there is one, else run the request (and store)."""
        stored = await anyio.to_thread.run_sync(self._find, identity)
        if stored is None:
            return await self._run_and_store(scope, receive, identity, fingerprint)
        if stored.request_hash != fingerprint:
            return _reused_response()
        return _replayed_response(stored)

    async def _claim(self, identity: Identity) -> asyncio.Event | None:
        """Make this request the one processing `identity`, after waiting (bounded) for the one
        already doing so; None when that one is still running at the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.in_flight_wait_seconds
        while (running := self._in_flight.get(identity)) is not None:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None
            try:
                await asyncio.wait_for(running.wait(), remaining)
            except TimeoutError:
                return None
        claim = self._in_flight[identity] = asyncio.Event()
        return claim

    async def _run_and_store(
        self, scope: Scope, receive: Receive, identity: Identity, fingerprint: str
    ) -> _CapturedResponse:
        disposition = RequestDisposition()
        disposition.attach(scope)
        captured = _CapturedResponse()
        async with self._write_lock:
            await self.app(scope, receive, captured.send)
            if captured.status < 500 and not disposition.refused_before_route:
                await anyio.to_thread.run_sync(self._store, identity, fingerprint, captured)
        return captured

    def _find(self, identity: Identity) -> IdempotencyRecord | None:
        with self.database.sessionmaker() as session:
            return session.get(IdempotencyRecord, identity)

    def _store(self, identity: Identity, fingerprint: str, captured: _CapturedResponse) -> None:
        system, method, path, key = identity
        record = IdempotencyRecord(
            system=system,
            method=method,
            path=path,
            key=key,
            request_hash=fingerprint,
            status_code=captured.status,
            content_type=captured.content_type,
            response_body=captured.body,
            created_at=utc_now(),
        )
        with self.database.sessionmaker() as session:
            session.add(record)
            try:
                session.commit()
            except IntegrityError:  # a reset raced us; the first record stands
                session.rollback()


class _CapturedResponse:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.status = 500
        self.content_type = "application/json"
        self.chunks: list[bytes] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            for name, value in message.get("headers", []):
                if name.lower() == b"content-type":
                    self.content_type = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    async def __call__(self, _scope: Scope, _receive: Receive, send: Send) -> None:
        """Send the captured response on (same signature as a `Response`)."""
        for message in self.messages:
            await send(message)


def _replayed_response(stored: IdempotencyRecord) -> Response:
    return Response(
        stored.response_body,
        status_code=stored.status_code,
        media_type=stored.content_type,
        headers={"Idempotent-Replayed": "true"},
    )


def _reused_response() -> Response:
    return error_response(422, "idempotency_key_reused", "this Idempotency-Key was used with a different request body")


def _in_flight_response() -> Response:
    return error_response(
        409,
        "idempotency_key_in_flight",
        "a request with this Idempotency-Key is still being processed; retry later",
        {"Retry-After": str(IN_FLIGHT_RETRY_AFTER_SECONDS)},
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1")).strip()
    return None


def _system(scope: Scope) -> str:
    return str(scope["path"]).strip("/").split("/")[0]


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or None when the client disconnected before sending all of it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the real channel (for disconnect notices)."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
