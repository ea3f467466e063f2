"""`TrytonRpc` against a scripted JSON-RPC endpoint (httpx.MockTransport): the session header,
re-login on an expired session, Tryton's errors mapped to ours, reads repeated and writes never,
Tryton's JSON encoding both ways. The real Tryton is exercised in tests/tryton and tests/contracts."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.errors import AuthenticationError, BusinessRuleError, TransientError
from adapters.tryton.rpc import TrytonRpc, decimal_quantity, decode, encode


class Script:
    """Answers `common.db.login` with a new session each time; model calls from `answers`."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, Any, str | None]] = []
        self.logins = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.calls.append((body["method"], body["params"], request.headers.get("Authorization")))
        assert request.url.path == "/db1/rpc/"
        if body["method"] == "common.db.login":
            self.logins += 1
            return httpx.Response(200, json={"id": body["id"], "result": [7, f"session-{self.logins}", None]})
        answer = self.answers.pop(0)
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json={"id": body["id"], **answer})


def rpc(script: Script) -> TrytonRpc:
    return TrytonRpc("http://tryton.test", "db1", user="admin", password="pw", transport=httpx.MockTransport(script))


async def test_logs_in_once_and_sends_the_session_with_every_call() -> None:
    script = Script({"result": [1, 2]}, {"result": 5})
    async with rpc(script) as client:
        assert await client.call("party.party", "search", [["code", "=", "SUP-0001"]]) == [1, 2]
        assert await client.call("party.party", "search_count", []) == 5
    assert script.logins == 1
    expected = "Session " + base64.b64encode(b"admin:7:session-1").decode()
    assert [auth for method, _, auth in script.calls if method.startswith("model.")] == [expected, expected]
    method, params, _ = script.calls[1]
    assert method == "model.party.party.search" and params == [[["code", "=", "SUP-0001"]], {}]


async def test_an_expired_session_logs_in_again_and_repeats_the_call() -> None:
    script = Script(httpx.Response(401), {"result": [3]})
    async with rpc(script) as client:
        assert await client.call("party.party", "create", [{"name": "x"}]) == [3]
    assert script.logins == 2


async def test_a_refused_login_is_an_authentication_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403)

    client = TrytonRpc("http://t", "db1", user="admin", password="bad", transport=httpx.MockTransport(refuse))
    async with client:
        with pytest.raises(AuthenticationError):
            await client.call("party.party", "search", [])


async def test_a_user_error_is_a_business_error_with_tryton_s_message() -> None:
    script = Script({"error": ["UserError", ["The code must be unique.", "", None]]})
    async with rpc(script) as client:
        with pytest.raises(BusinessRuleError) as refused:
            await client.call("party.party", "create", [{"code": "SUP-0001"}])
    assert refused.value.code == "user_error" and "must be unique" in refused.value.message


@pytest.mark.parametrize(
    "answer",
    [
        {"error": ["ConcurrencyException", ["Records were modified in the meanwhile"]]},
        httpx.Response(503),
        httpx.Response(429),
    ],
    ids=["concurrency", "503", "429"],
)
async def test_reads_are_repeated_on_a_transient_failure_and_writes_are_not(answer: Any) -> None:
    script = Script(answer, {"result": [1]})
    async with rpc(script) as client:
        assert await client.call("party.party", "search", []) == [1]
    script = Script(answer, {"result": [1]})
    async with rpc(script) as client:
        with pytest.raises(TransientError):
            await client.call("party.party", "create", [{}])
    assert len(script.answers) == 1  # the write was sent once


async def test_an_unexpected_server_error_is_refused_without_the_traceback() -> None:
    script = Script({"error": ["KeyError: 'x'", "Traceback (most recent call last): ..."]})
    async with rpc(script) as client:
        with pytest.raises(BusinessRuleError) as refused:
            await client.call("party.party", "write", [1], {})
    assert refused.value.code == "rpc_error" and "Traceback" not in refused.value.message


def test_values_travel_in_tryton_s_json_encoding() -> None:
    values = {"price": Decimal("12.50"), "when": dt.date(2026, 11, 25), "at": dt.datetime(2026, 11, 25, 8, 30)}
    encoded = encode(values)
    assert encoded["price"] == {"__class__": "Decimal", "decimal": "12.50"}
    assert encoded["when"] == {"__class__": "date", "year": 2026, "month": 11, "day": 25}
    assert decode(json.loads(json.dumps(encoded))) == values


@pytest.mark.parametrize(
    ("value", "text"), [(20.0, "20"), (12.5, "12.5"), (0.1, "0.1"), (3, "3"), (Decimal("8.50"), "8.5")]
)
def test_a_tryton_quantity_reads_as_the_decimal_we_send(value: float | int | Decimal, text: str) -> None:
    assert str(decimal_quantity(value)) == text


@given(st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False))
def test_a_quantity_through_a_tryton_float_comes_back_equal_and_without_trailing_zeros(sent: Decimal) -> None:
    back = decimal_quantity(float(sent))
    assert back == sent
    whole = back == back.to_integral_value()
    assert "." not in str(back) if whole else not str(back).endswith("0")
