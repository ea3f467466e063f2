"""Fault injection per system, set at run time through `/admin/faults`.

The middleware keys on the first path segment (`/erp/...` -> `erp`). Order of effects: outage
(503 `outage`), latency (sleep, then go on), throttling (429 `rate_limited` with Retry-After),
injected error (500 `injected_error`).

For requests that change something, an injected error lands BEFORE the handler or AFTER it
(the change is committed, the response is lost and the client sees a 500), each half the time
by default; `error_phase` pins it for deterministic tests. A lost response is what really tests
a client's idempotency keys.

`/admin/*`, `/health` and every system's own `/<system>/admin/*` controls are never faulted:
they steer the sandbox, they are not the system's API.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.errors import error_response

CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class FaultSettings(BaseModel):
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(default=0, ge=0, le=60_000)
    outage: bool = False
    throttle_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    retry_after_seconds: int = Field(default=1, ge=0, le=3600)
    error_phase: Literal["random", "before", "after"] = Field(
        default="random", description="when an injected error hits a change request"
    )

    @property
    def is_quiet(self) -> bool:
        return self == FaultSettings()


class FaultRegistry:
    """The current fault settings of each system (in memory: faults are an operator's knob)."""

    def __init__(self, systems: Iterable[str], *, rng: random.Random | None = None) -> None:
        self.systems = tuple(systems)
        self._settings: dict[str, FaultSettings] = {}
        self.rng = rng or random.Random()

    def get(self, system: str) -> FaultSettings:
        return self._settings.get(system, FaultSettings())

    def set(self, system: str, settings: FaultSettings) -> None:
        self._settings[system] = settings

    def clear(self, system: str | None = None) -> None:
        if system is None:
            self._settings.clear()
        else:
            self._settings.pop(system, None)

    def snapshot(self) -> dict[str, FaultSettings]:
        return {system: self.get(system) for system in self.systems}

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate


class FaultMiddleware:
    def __init__(self, app: ASGIApp, registry: FaultRegistry) -> None:
        self.app = app
        self.registry = registry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        system = self._faultable_system(scope)
        settings = self.registry.get(system) if system else None
        if settings is None or settings.is_quiet:
            await self.app(scope, receive, send)
            return
        retry_after = {"Retry-After": str(settings.retry_after_seconds)}
        if settings.outage:
            response = error_response(503, "outage", f"{system} is unavailable (injected outage)", retry_after)
            await response(scope, receive, send)
            return
        if settings.latency_ms:
            await asyncio.sleep(settings.latency_ms / 1000)
        if self.registry.roll(settings.throttle_rate):
            response = error_response(429, "rate_limited", f"{system} rate limit exceeded (injected)", retry_after)
            await response(scope, receive, send)
            return
        if not self.registry.roll(settings.error_rate):
            await self.app(scope, receive, send)
            return
        if scope["method"] in CHANGING_METHODS and self._after(settings):
            await self.app(scope, receive, _discard)
        error = error_response(500, "injected_error", f"{system} failed to answer (injected error)")
        await error(scope, receive, send)

    def _after(self, settings: FaultSettings) -> bool:
        if settings.error_phase == "random":
            return self.registry.rng.random() < 0.5
        return settings.error_phase == "after"

    def _faultable_system(self, scope: Scope) -> str | None:
        if scope["type"] != "http":
            return None
        segments = scope["path"].strip("/").split("/")
        if segments[0] not in self.registry.systems:
            return None
        if len(segments) > 1 and segments[1] == "admin":
            return None
        return segments[0]


async def _discard(_message: Message) -> None:
    """The response of a handler whose answer the injected fault 'loses'."""
