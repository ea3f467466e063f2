"""Idempotency-Key handling for every change request, as an ASGI middleware.

The first response (status and body) to a POST/PUT/PATCH carrying an `Idempotency-Key` is
stored per (system, method, path, key) with a hash of the request body. The same key with the
same body replays it byte for byte (header `Idempotent-Replayed: true`); the same key with
another body is refused with 422 `idempotency_key_reused`. 5xx answers are not stored, so a
retry after a real server error runs again.

All change requests (with or without a key) run one at a time under one lock: the sandbox is a
reference system, not a throughput test, and serialising writes makes id allocation, the
duplicate-tax-id check and check-then-store of idempotency records race-free without tying
them to one database's locking.
"""

from __future__ import annotations

import asyncio
import hashlib
import json

import anyio.to_thread
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.db import IdempotencyRecord, SandboxDatabase, utc_now
from sandbox.errors import error_response

KEYED_METHODS = frozenset({"POST", "PUT", "PATCH"})
CHANGING_METHODS = KEYED_METHODS | {"DELETE"}
MAX_KEY_LENGTH = 255


def body_fingerprint(body: bytes) -> str:
    """Hash of the canonical JSON when the body is JSON, so key order does not matter."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(canonical).hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, database: SandboxDatabase) -> None:
        self.app = app
        self.database = database
        self._write_lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in CHANGING_METHODS:
            await self.app(scope, receive, send)
            return
        async with self._write_lock:
            key = _header(scope, b"idempotency-key")
            if key is None or scope["method"] not in KEYED_METHODS:
                await self.app(scope, receive, send)
            else:
                await self._keyed(scope, receive, send, key)

    async def _keyed(self, scope: Scope, receive: Receive, send: Send, key: str) -> None:
        if not key or len(key) > MAX_KEY_LENGTH:
            await error_response(
                422, "invalid_idempotency_key", f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters"
            )(scope, receive, send)
            return
        body = await _read_body(receive)
        identity = (_system(scope), scope["method"], scope["path"], key)
        fingerprint = body_fingerprint(body)
        stored = await anyio.to_thread.run_sync(self._find, identity)
        if stored is not None:
            if stored.request_hash != fingerprint:
                response: Response = error_response(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request body",
                )
            else:
                response = Response(
                    stored.response_body,
                    status_code=stored.status_code,
                    media_type=stored.content_type,
                    headers={"Idempotent-Replayed": "true"},
                )
            await response(scope, receive, send)
            return
        captured = _CapturedResponse()
        await self.app(scope, _replaying(body, receive), captured.send)
        if captured.status < 500:
            await anyio.to_thread.run_sync(self._store, identity, fingerprint, captured)
        await captured.forward(send)

    def _find(self, identity: tuple[str, str, str, str]) -> IdempotencyRecord | None:
        with self.database.sessionmaker() as session:
            return session.get(IdempotencyRecord, identity)

    def _store(self, identity: tuple[str, str, str, str], fingerprint: str, captured: _CapturedResponse) -> None:
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

    async def forward(self, send: Send) -> None:
        for message in self.messages:
            await send(message)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1")).strip()
    return None


def _system(scope: Scope) -> str:
    return str(scope["path"]).strip("/").split("/")[0]


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
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
