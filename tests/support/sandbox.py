"""A real sandbox over HTTP for tests: uvicorn on a free 127.0.0.1 port in a background thread.

    with running_sandbox(tmp_path) as sandbox:
        client = SystemClient("erp", sandbox.system_url("erp"), token=sandbox.token)

The socket is bound before uvicorn starts (no port race), readiness is polled on /health with
a deadline, and leaving the block stops the server and its webhook worker.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from sandbox.server import SandboxConfig, create_app

STARTUP_DEADLINE_SECONDS = 15.0
SHUTDOWN_DEADLINE_SECONDS = 10.0


@dataclass
class RunningSandbox:
    url: str
    token: str | None
    config: SandboxConfig
    headers: dict[str, str] = field(default_factory=dict)

    def system_url(self, system: str) -> str:
        return f"{self.url}/{system}"

    def admin(self, method: str, path: str, json: Any = None) -> Any:
        """Call a sandbox control (`/admin/...` or `/<system>/admin/...`); raises on non-2xx."""
        response = httpx.request(method, f"{self.url}{path}", json=json, headers=self.headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        """Seed data back, faults cleared, webhook target as configured at start."""
        self.admin("POST", "/admin/reset")
        self.admin("DELETE", "/admin/faults")
        target = {"url": self.config.webhook_url, "secret": self.config.webhook_secret}
        self.admin("PUT", "/vendor-management/admin/webhook", target)


class _ThreadServer(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the test process keeps its own signal handlers


def _bound_socket() -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio turns TCP_NODELAY on only for it (else ~40 ms per answer on a kept connection)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _wait_until_healthy(url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    last_error = "no answer"
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the sandbox server thread stopped during startup")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last_error = type(exc).__name__
        time.sleep(0.02)  # polling interval, not a wait for an outcome
    raise TimeoutError(f"the sandbox did not become healthy within {STARTUP_DEADLINE_SECONDS}s ({last_error})")


@contextmanager
def running_sandbox(
    tmp_path: Path,
    *,
    token: str | None = "test-token",
    webhook_url: str | None = None,
    webhook_secret: str = "test-secret",
) -> Iterator[RunningSandbox]:
    config = SandboxConfig(
        database_url=f"sqlite:///{(tmp_path / 'sandbox.sqlite').resolve()}",
        token=token,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        reset=True,
    )
    sock = _bound_socket()
    host, port = sock.getsockname()
    server = _ThreadServer(uvicorn.Config(create_app(config), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="sandbox", daemon=True)
    thread.start()
    url = f"http://{host}:{port}"
    try:
        _wait_until_healthy(url, thread)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        yield RunningSandbox(url=url, token=token, config=config, headers=headers)
    finally:
        server.should_exit = True
        thread.join(SHUTDOWN_DEADLINE_SECONDS)
        sock.close()
        if thread.is_alive():
            raise RuntimeError("the sandbox server did not stop")
