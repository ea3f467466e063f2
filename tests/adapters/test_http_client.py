"""SystemClient's mapping of HTTP outcomes to typed adapter errors (httpx.MockTransport)."""

from __future__ import annotations

import email.utils
import json
from collections.abc import Callable

import httpx
import pytest

from adapters.errors import AuthenticationError, BusinessRuleError, NotFoundError, TransientError
from adapters.http import SystemClient, parse_retry_after

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, token: str | None = "secret-token") -> SystemClient:
    return SystemClient("erp", "http://erp.test/api", token=token, transport=httpx.MockTransport(handler), attempts=1)


def answer(status: int, body: object = None, headers: dict[str, str] | None = None) -> Handler:
    def handle(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json=body, headers=headers)

    return handle


async def test_sends_the_token_and_the_idempotency_key_and_parses_json() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"ok": True})

    async with client(handle) as erp:
        assert await erp.request("POST", "/suppliers", json={"a": 1}, idempotency_key="key-1") == {"ok": True}
        await erp.request("GET", "/suppliers")

    assert str(seen[0].url) == "http://erp.test/api/suppliers"
    assert seen[0].headers["Authorization"] == "Bearer secret-token"
    assert seen[0].headers["Idempotency-Key"] == "key-1"
    assert json.loads(seen[0].content) == {"a": 1}
    assert "Idempotency-Key" not in seen[1].headers


async def test_no_authorization_header_without_a_token() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async with client(handle, token=None) as erp:
        assert await erp.request("DELETE", "/x") is None
    assert "Authorization" not in seen[0].headers


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
async def test_retryable_statuses_are_transient(status: int) -> None:
    async with client(answer(status, {"code": "busy", "detail": "try later"})) as erp:
        with pytest.raises(TransientError) as raised:
            await erp.request("GET", "/suppliers")
    assert raised.value.status == status
    assert "try later" in str(raised.value)


async def test_a_key_still_in_flight_is_transient_and_keeps_its_retry_after() -> None:
    body = {"code": "idempotency_key_in_flight", "detail": "the first attempt is still running"}
    async with client(answer(409, body, {"Retry-After": "2"})) as erp:
        with pytest.raises(TransientError) as raised:
            await erp.request("POST", "/suppliers", json={}, idempotency_key="k1")
    assert (raised.value.status, raised.value.retry_after) == (409, 2)


async def test_retry_after_seconds_and_http_dates_are_honoured() -> None:
    async with client(answer(429, {"code": "rate_limited"}, {"Retry-After": "7"})) as erp:
        with pytest.raises(TransientError) as raised:
            await erp.request("GET", "/suppliers")
    assert raised.value.retry_after == 7.0

    assert parse_retry_after(email.utils.formatdate(1_000_030, usegmt=True), now=1_000_000) == 30.0
    assert parse_retry_after(email.utils.formatdate(1_000_000, usegmt=True), now=1_000_030) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("inf") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize("error", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow")])
async def test_transport_failures_are_transient(error: httpx.TransportError) -> None:
    def handle(_request: httpx.Request) -> httpx.Response:
        raise error

    async with client(handle) as erp:
        with pytest.raises(TransientError) as raised:
            await erp.request("GET", "/suppliers")
    assert raised.value.status is None


@pytest.mark.parametrize("status", [401, 403])
async def test_credentials_refused_is_an_authentication_error(status: int) -> None:
    async with client(answer(status, {"code": "unauthorized", "detail": "bad token"})) as erp:
        with pytest.raises(AuthenticationError) as raised:
            await erp.request("GET", "/suppliers")
    assert (raised.value.status, raised.value.code) == (status, "unauthorized")


async def test_404_is_not_found() -> None:
    async with client(answer(404, {"code": "not_found", "detail": "supplier SUP-9 does not exist"})) as erp:
        with pytest.raises(NotFoundError) as raised:
            await erp.request("GET", "/suppliers/SUP-9")
    assert raised.value.stable_type == "erp.not_found"


async def test_other_4xx_are_business_rule_errors_with_the_body_code() -> None:
    async with client(answer(409, {"code": "duplicate_tax_id", "detail": "tax id taken"})) as erp:
        with pytest.raises(BusinessRuleError) as raised:
            await erp.request("POST", "/suppliers", json={})
    assert (raised.value.code, raised.value.status) == ("duplicate_tax_id", 409)

    def not_json(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, text="<html>bad</html>")

    async with client(not_json) as erp:
        with pytest.raises(BusinessRuleError) as raised:
            await erp.request("POST", "/suppliers", json={})
    assert raised.value.code == "http_400"


async def test_error_messages_leave_out_the_request_body_and_query() -> None:
    async with client(answer(422, {"code": "validation_error", "detail": "body.tax_id: invalid"})) as erp:
        with pytest.raises(BusinessRuleError) as raised:
            await erp.request("POST", "/suppliers", json={"tax_id": "52-1987345"}, params={"tax_id": "521987345"})
    assert "1987345" not in str(raised.value)
    assert str(raised.value) == "POST /suppliers answered 422: body.tax_id: invalid"


async def test_paginate_walks_every_page() -> None:
    rows = [{"n": n} for n in range(1203)]
    offsets: list[int] = []

    def handle(request: httpx.Request) -> httpx.Response:
        limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
        offsets.append(offset)
        items = rows[offset : offset + limit]
        return httpx.Response(200, json={"items": items, "total": len(rows), "has_more": offset + limit < len(rows)})

    async with client(handle) as erp:
        walked = [row async for row in erp.paginate("/rows", {"status": "active"})]

    assert walked == rows
    assert offsets == [0, 500, 1000]
