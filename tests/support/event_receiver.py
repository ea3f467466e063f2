"""A local signed-webhook receiver for tests and benches: what a subscriber of the platform's
events runs, on a free 127.0.0.1 port, in this process.

    with running_receiver(secret="...") as receiver:
        ...add a webhook subscription to receiver.url, produce events...
        receiver.ids()

Decisions:
- A real HTTP server (uvicorn in a thread of its own, with its own event loop, like
  tests/support/sandbox.py), so the platform's `WebhookSink` talks to it through real sockets,
  and a caller that blocks its own loop (a CLI call in a subprocess) does not stall it.
- Every POST to `path` is checked as a subscriber should: `runtime.webhooks.verify` of
  `X-SupplyBridge-Signature` with the subscription's secret (401 when it fails), then the body is
  read as a structured CloudEvent (`domain.cloud_events.read`; 400 when it is not one). What it
  accepts is recorded in arrival order, duplicates included (the relay delivers at least once:
  the test, not the receiver, deduplicates); what it refuses is recorded apart with the reason.
- `down()` really goes away: the server stops, its listening socket is closed and its
  connections are dropped, so senders get "connection refused" as from a crashed host; `up()`
  binds the same port again (SO_REUSEADDR) and serves. No "answer 503" mode is needed for that.
- `delay` holds each accepted request that long before answering (recorded first): a slow
  receiver, so a test can kill a sender while a delivery is in flight.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from domain.cloud_events import read
from runtime.webhooks import SIGNATURE_HEADER, verify

STARTUP_DEADLINE_SECONDS = 15.0
SHUTDOWN_DEADLINE_SECONDS = 10.0
EVENT_ID_HEADER = "x-supplybridge-event-id"


@dataclass(frozen=True)
class Received:
    """One accepted delivery. `at` is `time.monotonic()` when its body had arrived."""

    event_id: str
    type: str
    subject: str | None
    sequence: int | None
    body: bytes
    at: float
    event_id_header: str | None

    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass(frozen=True)
class Refused:
    status: int
    reason: str
    body: bytes


class _ThreadServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the caller's process keeps its own signal handlers


class EventReceiver:
    """See the module's docstring. Start it with `running_receiver` (or `up()` / `down()`)."""

    def __init__(self, secret: str | None, *, path: str = "/events") -> None:
        self.secret = secret
        self.path = path
        self.delay = 0.0
        self.port = 0
        self._received: list[Received] = []
        self._refused: list[Refused] = []
        self._lock = threading.Lock()
        self._server: _ThreadServer | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def is_up(self) -> bool:
        return self._server is not None

    # What arrived ------------------------------------------------------------------------

    @property
    def received(self) -> list[Received]:
        """Every accepted delivery so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._received)

    @property
    def refused(self) -> list[Refused]:
        with self._lock:
            return list(self._refused)

    def count(self) -> int:
        """How many deliveries were accepted so far (cheap: for polling)."""
        with self._lock:
            return len(self._received)

    def received_since(self, index: int) -> list[Received]:
        """The accepted deliveries from the `index`-th on (a copy)."""
        with self._lock:
            return self._received[index:]

    def ids(self) -> list[str]:
        return [r.event_id for r in self.received]

    def first_arrivals(self) -> list[Received]:
        """The first copy of each event id, in arrival order."""
        seen: set[str] = set()
        first = []
        for r in self.received:
            if r.event_id not in seen:
                seen.add(r.event_id)
                first.append(r)
        return first

    # Up and down -------------------------------------------------------------------------

    def up(self) -> None:
        """Serve on `port` (a free one the first time); returns once it accepts connections."""
        if self._server is not None:
            return
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
        # without it every answer on a kept-alive connection waits 40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app, log_level="warning", access_log=False, lifespan="off", loop="asyncio",
            interface="asgi3", proxy_headers=False, timeout_graceful_shutdown=1,
        )  # fmt: skip
        server = _ThreadServer(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="event-receiver", daemon=True)
        thread.start()
        self._server, self._thread, self._socket = server, thread, sock
        deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.down()
                raise RuntimeError(f"the event receiver did not start on 127.0.0.1:{self.port}")
            time.sleep(0.01)  # polling interval, not a wait for an outcome

    def down(self) -> None:
        """Stop serving: the listening socket is closed and open connections dropped."""
        server, thread, sock = self._server, self._thread, self._socket
        self._server = self._thread = self._socket = None
        if server is None or thread is None or sock is None:
            return
        server.should_exit = True
        thread.join(SHUTDOWN_DEADLINE_SECONDS)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("the event receiver did not stop")

    # The ASGI app ------------------------------------------------------------------------

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        at = time.monotonic()
        if scope["method"] != "POST" or scope["path"] != self.path:
            await _answer(send, 404, {"detail": "not found"})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status, answer = self._take(body, headers, at)
        if status == 200 and self.delay:
            await asyncio.sleep(self.delay)
        await _answer(send, status, answer)

    def _take(self, body: bytes, headers: dict[str, str], at: float) -> tuple[int, dict[str, Any]]:
        if self.secret is not None:
            reason = verify(self.secret, body, headers.get(SIGNATURE_HEADER.lower()))
            if reason is not None:
                return self._refuse(401, reason, body)
        try:
            event = read(body)
            sequence = event.get_extension("sequence")
            received = Received(
                event_id=event.get_id(),
                type=event.get_type(),
                subject=event.get_subject(),
                sequence=None if sequence is None else int(sequence),
                body=body,
                at=at,
                event_id_header=headers.get(EVENT_ID_HEADER),
            )
        except Exception as error:  # any unreadable body is the sender's fault: a 400
            return self._refuse(400, f"not a structured CloudEvent: {type(error).__name__}: {error}", body)
        with self._lock:
            self._received.append(received)
        return 200, {"ok": True}

    def _refuse(self, status: int, reason: str, body: bytes) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self._refused.append(Refused(status, reason, body))
        return status, {"detail": reason}


async def _answer(send: Any, status: int, payload: dict[str, Any]) -> None:
    content = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


@contextmanager
def running_receiver(secret: str | None, *, path: str = "/events") -> Iterator[EventReceiver]:
    """A receiver serving until the block ends (also when it fails)."""
    receiver = EventReceiver(secret, path=path)
    receiver.up()
    try:
        yield receiver
    finally:
        receiver.down()
