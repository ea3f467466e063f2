"""In-request retries: only requests safe to repeat, quickly, and never past a long Retry-After."""

from __future__ import annotations

import httpx
import pytest

from adapters.errors import TransientError
from adapters.http import SystemClient


def flaky(failures: int, *, status: int = 503, retry_after: str | None = None) -> tuple[list[str], httpx.MockTransport]:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        if len(seen) <= failures:
            headers = {"Retry-After": retry_after} if retry_after else {}
            return httpx.Response(status, json={"code": "outage", "detail": "down"}, headers=headers)
        return httpx.Response(200, json={"ok": True})

    return seen, httpx.MockTransport(handler)


async def test_keyed_post_and_get_are_retried_until_they_succeed() -> None:
    seen, transport = flaky(2)
    async with SystemClient("erp", "http://erp.test", token=None, transport=transport) as client:
        assert await client.request("POST", "/suppliers", json={}, idempotency_key="k") == {"ok": True}
    assert seen == ["POST", "POST", "POST"]


async def test_post_without_a_key_is_not_repeated() -> None:
    seen, transport = flaky(1)
    async with SystemClient("erp", "http://erp.test", token=None, transport=transport) as client:
        with pytest.raises(TransientError):
            await client.request("POST", "/tin-match", json={})
    assert seen == ["POST"]


async def test_a_long_retry_after_is_left_to_temporal() -> None:
    seen, transport = flaky(1, status=429, retry_after="30")
    async with SystemClient("erp", "http://erp.test", token=None, transport=transport) as client:
        with pytest.raises(TransientError) as caught:
            await client.request("GET", "/suppliers")
    assert seen == ["GET"] and caught.value.retry_after == 30


async def test_attempts_are_bounded() -> None:
    seen, transport = flaky(10)
    async with SystemClient("erp", "http://erp.test", token=None, transport=transport, attempts=3) as client:
        with pytest.raises(TransientError):
            await client.request("GET", "/suppliers")
    assert len(seen) == 3
