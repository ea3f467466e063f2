"""FastAPI dependencies as `Annotated` aliases (module level, so FastAPI can resolve them).

Dependencies that do not block are `async def`: FastAPI runs a plain `def` dependency in a worker
thread, which costs a thread hop per request (starter/api/security.py's are `async` too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client


async def _temporal_client(request: Request) -> Client:
    client: Client = request.app.state.temporal  # set by the app's lifespan
    return client


TemporalClient = Annotated[Client, Depends(_temporal_client)]
