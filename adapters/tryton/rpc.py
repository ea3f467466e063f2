"""`TrytonRpc`: one Tryton database over JSON-RPC (`POST /<db>/rpc/`), with failures mapped to
adapters/errors.py the way `SystemClient` maps HTTP ones.

- Login (`common.db.login`) gives a user id and a session; each call sends
  `Authorization: Session base64(login:user_id:session)`. An expired session (401/403 on a call)
  logs in once more and repeats the call; a refused login is an `AuthenticationError`.
- Timeouts, connection failures, 408/425/429/5xx, 503 and Tryton's `ConcurrencyException` are
  `TransientError`; a `UserError` is a `BusinessRuleError` (code `user_error`, or the code a
  caller's `refusals` maps the message to) carrying Tryton's message; a `UserWarning` is a
  `TrytonWarning` (`BusinessRuleError` `user_warning` with the warning's name in `warning`);
  anything else Tryton answers with an error is a `BusinessRuleError` `rpc_error`.
- Reads (`read`, `search`, `search_read`, `search_count`, `fields_get`) are repeated here a few
  times on a transient failure. Writes never are: Tryton has no idempotency keys, so the adapters
  make a retried write safe by finding the record they made first (by a reference field we own).

Values travel in Tryton's JSON encoding: `Decimal`, `date` and `datetime` as `{"__class__": ...}`
objects (`encode` / `decode`).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

import httpx

from adapters.errors import AuthenticationError, BusinessRuleError, TransientError
from adapters.http import FIRST_BACKOFF_SECONDS, IN_REQUEST_ATTEMPTS, TRANSIENT_STATUSES, report_call

SYSTEM = "erp"
READ_METHODS = frozenset({"read", "search", "search_read", "search_count", "fields_get", "default_get"})


def encode(value: Any) -> Any:
    """Python values in Tryton's JSON encoding (Decimal, date, datetime), recursively."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {
            "__class__": "datetime",
            **{k: getattr(value, k) for k in ("year", "month", "day", "hour", "minute", "second", "microsecond")},
        }
    if isinstance(value, dt.date):
        return {"__class__": "date", "year": value.year, "month": value.month, "day": value.day}
    if isinstance(value, Mapping):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def decimal_quantity(value: float | int | Decimal) -> Decimal:
    """A Tryton quantity (a Float field: 20.0) as the Decimal the rest of SupplyBridge uses and the
    sandbox ERP answers (20): the float's shortest text, a whole number without a fraction."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def decode(value: Any) -> Any:
    """Tryton's JSON encoding back to Python values, recursively."""
    if isinstance(value, dict):
        kind = value.get("__class__")
        if kind == "Decimal":
            return Decimal(value["decimal"])
        if kind == "date":
            return dt.date(value["year"], value["month"], value["day"])
        if kind == "datetime":
            return dt.datetime(
                value["year"], value["month"], value["day"],
                value["hour"], value["minute"], value["second"], value.get("microsecond", 0),
            )  # fmt: skip
        if kind == "bytes":
            return base64.b64decode(value["base64"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


class TrytonRpc:
    """A logged-in JSON-RPC session with one Tryton database."""

    def __init__(
        self,
        base_url: str,
        database: str,
        *,
        user: str,
        password: str,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        attempts: int = IN_REQUEST_ATTEMPTS,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.database = database
        self.user = user
        self._password = password
        self._attempts = max(1, attempts)
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=httpx.Timeout(timeout), transport=transport
        )
        self._ids = itertools.count(1)
        self._session: str | None = None
        self._login_lock = asyncio.Lock()
        self.context: dict[str, Any] = dict(context or {})

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- the model API ---------------------------------------------------------------------------

    async def call(self, model: str, method: str, *args: Any, context: Mapping[str, Any] | None = None) -> Any:
        """`model.<model>.<method>(*args, context)`; reads are repeated on a transient failure."""
        params = [*args, {**self.context, **(context or {})}]
        attempts = self._attempts if method in READ_METHODS else 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._authenticated(f"model.{model}.{method}", params)
            except TransientError:
                if attempt == attempts:
                    raise
                await asyncio.sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def search_read(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: Sequence[tuple[str, str]] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        found = await self.call(
            model, "search_read", list(domain), offset, limit, list(order or []), list(fields), context=context
        )
        return list(found)

    async def create(self, model: str, values: Sequence[Mapping[str, Any]]) -> list[int]:
        return list(await self.call(model, "create", [dict(v) for v in values]))

    async def write(self, model: str, ids: Sequence[int], values: Mapping[str, Any]) -> None:
        await self.call(model, "write", list(ids), dict(values))

    async def button(self, model: str, name: str, ids: Sequence[int]) -> Any:
        """A workflow transition (`quote`, `confirm`, `cancel`, ...)."""
        return await self.call(model, name, list(ids))

    async def wizard(self, name: str, method: str, *args: Any) -> Any:
        """`wizard.<name>.<method>(*args, context)`: `create` -> [session, start, end],
        `execute(session, data, state)`, `delete(session)`. Never repeated: a step writes."""
        return await self._authenticated(f"wizard.{name}.{method}", [*args, dict(self.context)])

    # -- the wire ----------------------------------------------------------------------------------

    async def _authenticated(self, method: str, params: list[Any]) -> Any:
        session = await self._ensure_session()
        try:
            return await self._post(method, params, session=session)
        except AuthenticationError:
            session = await self._ensure_session(expired=session)
            return await self._post(method, params, session=session)

    async def _ensure_session(self, expired: str | None = None) -> str:
        async with self._login_lock:
            if self._session is None or self._session == expired:
                answer = await self._post("common.db.login", [self.user, {"password": self._password}, "en"])
                user_id, key = answer[0], answer[1]
                token = f"{self.user}:{user_id}:{key}".encode()
                self._session = base64.b64encode(token).decode()
            return self._session

    async def _post(self, method: str, params: list[Any], *, session: str | None = None) -> Any:
        where = (
            method if method.startswith("common.") else method.rsplit(".", 1)[-1] + " " + method[6:].rsplit(".", 1)[0]
        )
        headers = {"Authorization": f"Session {session}"} if session else None
        body = {"id": next(self._ids), "method": method, "params": encode(params)}
        started, result = time.perf_counter(), "error"
        try:
            try:
                response = await self._http.post(f"/{self.database}/rpc/", json=body, headers=headers)
            except httpx.TimeoutException as exc:
                result = "timeout"
                raise TransientError(SYSTEM, f"tryton {where} timed out ({type(exc).__name__})") from None
            except httpx.TransportError as exc:
                result = "unreachable"
                raise TransientError(SYSTEM, f"tryton {where} failed: {type(exc).__name__}") from None
            status = response.status_code
            if status in (401, 403):
                result = "auth_error"
                raise AuthenticationError(SYSTEM, f"tryton {where} answered {status}", status=status)
            if status in TRANSIENT_STATUSES or status >= 500:
                result = "unavailable"
                raise TransientError(SYSTEM, f"tryton {where} answered {status}", status=status)
            if not response.is_success:
                result = "rejected"
                raise BusinessRuleError(SYSTEM, f"http_{status}", f"tryton {where} answered {status}", status=status)
            try:
                answer = response.json()
            except ValueError:
                result = "unavailable"
                raise TransientError(SYSTEM, f"tryton {where} answered {status} without JSON", status=status) from None
            if isinstance(answer, dict) and answer.get("error") is not None:
                error = rpc_error(where, answer["error"])
                result = "unavailable" if isinstance(error, TransientError) else "rejected"
                raise error
            result = "ok"
            return decode(answer.get("result") if isinstance(answer, dict) else answer)
        except asyncio.CancelledError:
            result = "cancelled"
            raise
        finally:
            report_call(SYSTEM, result, time.perf_counter() - started)


class TrytonWarning(BusinessRuleError):
    """A Tryton `UserWarning` (`["UserWarning", [name, message, description]]`): Tryton wants the
    user to confirm. `warning` is its name; a caller that means to accept exactly that warning
    creates a `res.user.warning` for it and repeats the call (adapters/tryton/receipts.py)."""

    def __init__(self, where: str, warning: str | None) -> None:
        super().__init__(SYSTEM, "user_warning", f"tryton {where}: a warning needs confirming", status=409)
        self.warning = warning


def rpc_error(where: str, error: Any) -> Exception:
    """Tryton's `error` member (`["UserError", [message, description, domain]]`, or for an
    unexpected server error `[text, traceback]`) as one of our errors."""
    kind = error[0] if isinstance(error, list) and error else str(error)
    args = error[1] if isinstance(error, list) and len(error) > 1 else None
    if kind in ("ConcurrencyException", "TimeOutException", "RateLimitException"):
        return TransientError(SYSTEM, f"tryton {where}: {kind}")
    if kind == "UserError":
        message = args[0] if isinstance(args, list) and args else "refused"
        return BusinessRuleError(SYSTEM, "user_error", f"tryton {where}: {message}", status=400)
    if kind == "UserWarning":
        name = args[0] if isinstance(args, list) and args else None
        return TrytonWarning(where, str(name) if name else None)
    if "database is locked" in str(kind) or "DatabaseOperationalError" in str(kind):
        return TransientError(SYSTEM, f"tryton {where}: the database is busy")
    return BusinessRuleError(SYSTEM, "rpc_error", f"tryton {where} failed: {str(kind)[:200]}", status=500)
