"""`sandbox.server.serve` as the CLI runs it: an asyncio task, stopped by cancelling it."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import pytest

from sandbox.server import SandboxConfig, serve


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_answers_until_cancelled_then_stops_listening(tmp_path: Path) -> None:
    port = free_port()
    config = SandboxConfig(database_url=f"sqlite:///{tmp_path / 'sandbox.sqlite'}", token="t")
    server = asyncio.create_task(serve(config, port=port))
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=1) as client:
        deadline = time.monotonic() + 10
        while True:
            try:
                health = await client.get("/health")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.done():
                    raise
                await asyncio.sleep(0.02)
        suppliers = await client.get("/erp/suppliers", headers={"Authorization": "Bearer t"})

    server.cancel()
    with pytest.raises(asyncio.CancelledError):
        await server

    assert health.json()["status"] == "ok"
    assert suppliers.json()["total"] == 6
    with pytest.raises(httpx.ConnectError):  # nothing listens any more
        httpx.get(f"{url}/health", timeout=1)
