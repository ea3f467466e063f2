"""`TrytonProbe` (the alerts' probe of the ERP under Tryton) against a scripted JSON-RPC endpoint
(httpx.MockTransport, as tests/unit/test_tryton_rpc.py): one cheap authenticated read, and
Tryton's failures seen by activities/alerts.py `probe` as the sandbox client's are."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from activities.alerts import probe
from adapters.errors import AuthenticationError, TransientError
from adapters.tryton.probe import TrytonProbe
from adapters.tryton.rpc import TrytonRpc

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
Answer = Callable[[httpx.Request, dict], httpx.Response]


def logged_in(answer: Answer) -> Callable[[httpx.Request], httpx.Response]:
    """A Tryton that accepts the login and answers every model call with `answer`."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if body["method"] == "common.db.login":
            return httpx.Response(200, json={"id": body["id"], "result": [1, "session", None]})
        return answer(request, body)

    return handle


def tryton(handler: Callable[[httpx.Request], httpx.Response]) -> TrytonProbe:
    rpc = TrytonRpc("http://tryton.test", "db1", user="admin", password="pw", transport=httpx.MockTransport(handler),
                    attempts=1)  # fmt: skip
    return TrytonProbe(rpc)


def unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def test_the_probe_is_one_cheap_authenticated_read() -> None:
    asked: list[tuple[str, list]] = []

    def count(request: httpx.Request, body: dict) -> httpx.Response:
        asked.append((body["method"], body["params"]))
        return httpx.Response(200, json={"id": body["id"], "result": 1})

    target = tryton(logged_in(count))
    checked = await probe(target, NOW)
    assert (checked.system, checked.ok, checked.error) == ("erp", True, None)
    assert asked == [("model.res.user.search_count", [[], {}])]


async def test_a_tryton_error_answer_is_still_an_answer() -> None:
    def refuse(request: httpx.Request, body: dict) -> httpx.Response:
        return httpx.Response(200, json={"id": body["id"], "error": ["UserError", ["no access", "", None]]})

    assert (await probe(tryton(logged_in(refuse)), NOW)).ok


def server_error(request: httpx.Request, body: dict) -> httpx.Response:
    return httpx.Response(503)


def database_busy(request: httpx.Request, body: dict) -> httpx.Response:
    return httpx.Response(200, json={"id": body["id"], "error": ["ConcurrencyException", "busy"]})


def login_refused(request: httpx.Request) -> httpx.Response:
    return httpx.Response(401)


@pytest.mark.parametrize(
    ("handler", "raised", "said"),
    [
        (logged_in(server_error), TransientError, "erp unavailable: tryton search_count res.user answered 503"),
        (logged_in(database_busy), TransientError, "erp unavailable: tryton search_count res.user"),
        (unreachable, TransientError, "erp unavailable: tryton common.db.login failed: ConnectError"),
        (login_refused, AuthenticationError, "erp refused us: tryton common.db.login answered 401"),
    ],
    ids=["5xx", "database-busy", "unreachable", "login-refused"],
)
async def test_failures_are_the_errors_the_sandbox_client_raises(
    handler: Callable[[httpx.Request], httpx.Response], raised: type[Exception], said: str
) -> None:
    target = tryton(handler)
    with pytest.raises(raised) as failed:
        await target.request("GET", "/")
    assert getattr(failed.value, "system", None) == "erp"
    checked = await probe(target, NOW)
    assert not checked.ok and checked.error is not None and checked.error.startswith(said), checked.error
