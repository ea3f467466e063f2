"""Entry points the CLI uses: `SandboxConfig`, `create_app(config)` and `serve(config, ...)`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn

from sandbox.app import create_app
from sandbox.config import SandboxConfig

__all__ = ["SandboxConfig", "create_app", "serve"]


class _EmbeddedServer(uvicorn.Server):
    """Leaves signal handling to the caller: the sandbox runs beside the worker and the API in
    one process, and the process, not uvicorn, decides when to stop (by cancelling `serve`)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8300) -> None:
    """Serve the sandbox until cancelled (or `should_exit`), then shut down cleanly: in-flight
    requests finish, the webhook worker stops."""
    server = _EmbeddedServer(
        uvicorn.Config(create_app(config), host=host, port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve(), name="sandbox-server")
    try:
        await asyncio.shield(serving)
    except asyncio.CancelledError:
        server.should_exit = True
        await serving
        raise
