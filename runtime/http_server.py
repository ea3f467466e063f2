"""Serving an ASGI app inside an asyncio program that owns the signals (the embedded stack runs
the sandbox and the API in one event loop and stops them itself on Ctrl-C)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator

import httpx
import uvicorn


class EmbeddedServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the owner of the event loop handles SIGINT/SIGTERM


def embedded_server(app: object, host: str, port: int) -> EmbeddedServer:
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")  # type: ignore[arg-type]
    return EmbeddedServer(config)


async def wait_until_healthy(url: str, *, timeout: float = 20.0, server_task: asyncio.Task[None] | None = None) -> None:
    """Poll `url` until it answers 200; fail early if the server task died."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(timeout=2.0) as client:
        while True:
            if server_task is not None and server_task.done():
                server_task.result()  # raises what killed it
                raise RuntimeError(f"the server behind {url} stopped during start-up")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if loop.time() >= deadline:
                raise TimeoutError(f"{url} did not become healthy within {timeout:.0f}s")
            await asyncio.sleep(0.1)
