"""FastAPI dependencies as `Annotated` aliases (module level, so FastAPI can resolve them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client


def _temporal_client(request: Request) -> Client:
    client: Client = request.app.state.temporal  # set by the app's lifespan
    return client


TemporalClient = Annotated[Client, Depends(_temporal_client)]
