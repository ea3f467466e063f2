"""A tiny webhook receiver for tests: records every POST (headers and raw body) it gets."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ReceivedWebhook:
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes


@dataclass
class WebhookReceiver:
    url: str
    received: list[ReceivedWebhook] = field(default_factory=list)
    status_code: int = 200
    """What the receiver answers; set it to 503 to make the sender retry."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, webhook: ReceivedWebhook) -> None:
        with self._lock:
            self.received.append(webhook)

    def wait_for(
        self, predicate: Callable[[list[ReceivedWebhook]], bool] = bool, *, timeout: float = 5.0
    ) -> list[ReceivedWebhook]:
        """Poll until `predicate(received)` holds; the deliveries so far, or TimeoutError."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.received)
            if predicate(snapshot):
                return snapshot
            time.sleep(0.01)
        raise TimeoutError(f"webhook condition not met within {timeout}s ({len(self.received)} received)")


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    holder: dict[str, WebhookReceiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver = holder["receiver"]
            headers = {name.lower(): value for name, value in self.headers.items()}
            receiver.record(ReceivedWebhook(self.path, headers, body))
            self.send_response(receiver.status_code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    host, port = server.server_address[:2]
    holder["receiver"] = WebhookReceiver(url=f"http://{host!s}:{port}/webhooks/vendor-management")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield holder["receiver"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
