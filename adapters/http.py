"""`SystemClient`: one external system's HTTP API, with failures mapped to adapters/errors.py.

Mapping (the contract activities rely on):
- timeouts, connection failures, 408/425/429/5xx -> `TransientError` (`retry_after` seconds from
  a numeric or HTTP-date `Retry-After`);
- 401/403 -> `AuthenticationError`; 404 -> `NotFoundError`;
- 409 `idempotency_key_in_flight` (the same key's first attempt is still being processed, as the
  Idempotency-Key draft answers) -> `TransientError`: the retry gets the first attempt's answer;
- any other 4xx -> `BusinessRuleError(system, code, detail)`, `code` from the body's `"code"`
  or `http_<status>`.

A request that is safe to repeat (GET/PUT/DELETE, or any request carrying an Idempotency-Key)
is retried here a few times on a transient failure, quickly, honouring a short Retry-After: a
flaky system then costs a few hundred milliseconds instead of an activity retry (which backs off
for seconds). Longer outages surface as `TransientError` and Temporal's retry policy takes over.

Messages name the method, the path and the system's own error detail, never the request body
or the query string (a tax id can be in either).

Every attempt (each in-request retry is one) is reported to the call observers
(`observe_calls`): the system, its result (`CALL_RESULTS`) and its duration. runtime/metrics.py
registers one that counts them for Prometheus; adapters know nothing of metrics.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any, Protocol, Self

import httpx

from adapters.errors import AuthenticationError, BusinessRuleError, NotFoundError, TransientError

PAGE_SIZE = 500
TRANSIENT_STATUSES = frozenset({408, 425, 429})
IDEMPOTENCY_HEADER = "Idempotency-Key"
SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
IN_REQUEST_ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 0.1
LONGEST_IN_REQUEST_WAIT = 3.0

# What one attempt came to: answered (`ok`); no answer in time (`timeout`) or no connection
# (`unreachable`); the system could not serve it (`unavailable`: 5xx, 408/425/429, the same key
# still in flight, a 2xx that is not JSON); `auth_error` (401/403); `not_found` (404); `rejected`
# (any other 4xx: a business rule); `cancelled` (the activity was); `error` (anything else).
CALL_RESULTS = (
    "ok",
    "timeout",
    "unreachable",
    "unavailable",
    "auth_error",
    "not_found",
    "rejected",
    "cancelled",
    "error",
)


class CallObserver(Protocol):
    def __call__(self, system: str, result: str, seconds: float) -> None: ...


_observers: list[CallObserver] = []
_log = logging.getLogger(__name__)


def observe_calls(observer: CallObserver) -> Callable[[], None]:
    """Report every attempt of every `SystemClient` of the process to `observer` (it must be quick
    and never block); returns the function that stops it."""
    _observers.append(observer)
    return lambda: _observers.remove(observer) if observer in _observers else None


def report_call(system: str, result: str, seconds: float) -> None:
    """Tell the call observers of one attempt (also used by clients that are not `SystemClient`)."""
    for observer in list(_observers):
        try:
            observer(system, result, seconds)
        except Exception:  # an observer's bug must never fail a business call
            _log.exception("call observer %r failed", observer)


class SystemClient:
    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        token: str | None,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        attempts: int = IN_REQUEST_ATTEMPTS,
    ) -> None:
        self.system = system
        self.attempts = max(1, attempts)
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout), transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The parsed JSON answer (None for an empty one); raises an `AdapterError` otherwise.

        `content` sends a raw body instead of `json` (an X12 interchange), with its Content-Type
        and any other request header in `headers`."""
        repeatable = method.upper() in SAFE_METHODS or idempotency_key is not None
        attempts = self.attempts if repeatable else 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._request_once(
                    method,
                    path,
                    json=json,
                    params=params,
                    idempotency_key=idempotency_key,
                    content=content,
                    headers=headers,
                )
            except TransientError as error:
                wait = (
                    error.retry_after if error.retry_after is not None else FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1)
                )
                if attempt == attempts or wait > LONGEST_IN_REQUEST_WAIT:
                    raise
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def _request_once(
        self,
        method: str,
        path: str,
        *,
        json: Any,
        params: Mapping[str, Any] | None,
        idempotency_key: str | None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        sent = {**(headers or {}), **({IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else {})}
        where = f"{method.upper()} {path}"
        started, result = time.perf_counter(), "error"
        try:
            try:
                response = await self._http.request(
                    method, path, json=json, params=params, content=content, headers=sent or None
                )
            except httpx.TimeoutException as exc:
                result = "timeout"
                raise TransientError(self.system, f"{where} timed out ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                result = "unreachable"
                raise TransientError(self.system, f"{where} failed: {type(exc).__name__}") from None
            if response.is_success:
                result = "unavailable"  # until it parses
                answer = self._parse(response, where)
                result = "ok"
                return answer
            error = self._error(response, where)
            result = response_result(error)
            raise error
        except asyncio.CancelledError:
            result = "cancelled"
            raise
        finally:
            report_call(self.system, result, time.perf_counter() - started)

    async def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> AsyncIterator[dict[str, Any]]:
        """Every item of a limit/offset listing, fetched `PAGE_SIZE` at a time."""
        offset = 0
        while True:
            page = await self.request("GET", path, params={**(params or {}), "limit": PAGE_SIZE, "offset": offset})
            items = page.get("items", []) if isinstance(page, dict) else []
            for item in items:
                yield item
            offset += len(items)
            if not items or not page.get("has_more", False):
                return

    def _parse(self, response: httpx.Response, where: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            # A 2xx that is not JSON is usually a proxy or gateway page: worth another try.
            raise TransientError(
                self.system,
                f"{where} answered {response.status_code} without JSON",
                status=response.status_code,
            ) from None

    def _error(self, response: httpx.Response, where: str) -> Exception:
        status = response.status_code
        code, detail = _error_body(response)
        message = f"{where} answered {status}: {detail}" if detail else f"{where} answered {status}"
        if status in TRANSIENT_STATUSES or status >= 500 or (status == 409 and code == IN_FLIGHT):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return TransientError(self.system, message, status=status, retry_after=retry_after)
        if status in (401, 403):
            return AuthenticationError(self.system, message, status=status)
        if status == 404:
            return NotFoundError(self.system, message)
        return BusinessRuleError(self.system, code or f"http_{status}", message, status=status)


IN_FLIGHT = "idempotency_key_in_flight"


def response_result(error: Exception) -> str:
    """The `CALL_RESULTS` kind of an answer `_error` mapped to `error`."""
    if isinstance(error, TransientError):
        return "unavailable"
    if isinstance(error, AuthenticationError):
        return "auth_error"
    if isinstance(error, NotFoundError):
        return "not_found"
    return "rejected"


def _error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        body = response.json()
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    code = body.get("code")
    detail = body.get("detail")
    return (str(code) if code else None), (str(detail) if detail is not None else None)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from `Retry-After: 7` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
