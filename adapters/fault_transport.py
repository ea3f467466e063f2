"""`FaultyTransport`: an httpx transport that injects the faults the sandbox injects for its own
systems (sandbox/faults.py) into calls to a system we do not run, such as a real Tryton.

Order of effects per request: outage (the connection is refused), latency (sleep, then go on),
injected error. An injected error lands BEFORE the request reaches the system (nothing happened)
or AFTER it (the system did the work; its answer is lost and the client sees a dropped connection),
each half the time unless `error_phase` pins it. A lost answer after a write is what proves that
an adapter's retried create finds the record it made instead of making a second one.

Used by tests, and by the worker when `SUPPLYBRIDGE_TRYTON_FAULTS` is set (`parse_faults`:
`error_rate=0.2,error_phase=after,latency_ms=100`), to rehearse an unreliable ERP.
"""

from __future__ import annotations

import asyncio
import random
from typing import Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class TransportFaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="share of requests that fail")
    error_phase: Literal["random", "before", "after"] = "random"
    latency_ms: int = Field(default=0, ge=0, le=60_000, description="added to every request")
    outage: bool = False


def parse_faults(text: str) -> TransportFaults:
    """`key=value,key=value` as `TransportFaults`; a bad key or value is a ValueError naming it."""
    values: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"{part!r} is not key=value (keys: {', '.join(TransportFaults.model_fields)})")
        values[key.strip()] = value.strip()
    try:
        return TransportFaults.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "faults"
        raise ValueError(f"{field}: {first['msg']}") from None


class FaultyTransport(httpx.AsyncBaseTransport):
    """Wraps `inner` (by default a plain `httpx.AsyncHTTPTransport`); `faults` may be changed
    between requests; `seed` makes the sequence of injected errors repeatable."""

    def __init__(
        self,
        faults: TransportFaults,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        seed: int | None = None,
    ) -> None:
        self.faults = faults
        self._inner = inner or httpx.AsyncHTTPTransport()
        self._random = random.Random(seed)
        self.injected = {"before": 0, "after": 0, "outage": 0}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        faults = self.faults
        if faults.outage:
            self.injected["outage"] += 1
            raise httpx.ConnectError("injected outage", request=request)
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        phase = self._phase(faults)
        if phase == "before":
            self.injected["before"] += 1
            raise httpx.ConnectError("injected error before the request", request=request)
        response = await self._inner.handle_async_request(request)
        if phase == "after":
            await response.aread()
            await response.aclose()
            self.injected["after"] += 1
            raise httpx.ReadError("injected error: the answer was lost", request=request)
        return response

    def _phase(self, faults: TransportFaults) -> str | None:
        if faults.error_rate <= 0 or self._random.random() >= faults.error_rate:
            return None
        if faults.error_phase != "random":
            return faults.error_phase
        return self._random.choice(("before", "after"))

    async def aclose(self) -> None:
        await self._inner.aclose()
