"""The /v1 API in process, over a test harness's Temporal client and a store in the test's
state dir (ASGITransport does not run the app's lifespan, so both are set on its state)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from runtime.settings import Settings
from starter.api.app import create_app
from store import Store
from tests.support.harness import Harness


@asynccontextmanager
async def in_process_api(h: Harness, settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    store = Store(settings.resolved_store_url)
    app = create_app(settings, client=h.client, store=store)
    app.state.temporal, app.state.store = h.client, store
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            yield client, store
    finally:
        store.close()


def problem_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of a refusal with `status`, which must name its detail (and never a
    traceback)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"] and "Traceback" not in response.text
    return body
