"""The deployment-wide gauges, read when `/metrics` is scraped: `supplybridge_decisions_waiting{team}`
from Temporal visibility and `supplybridge_dead_letters_open{kind}` from the store.

Decision: refreshed on scrape, at most every `REFRESH_SECONDS` (a cache in between), by the API
only. On scrape, because a periodic task would keep querying when nobody looks, and the numbers
are as fresh as the scrape interval allows; with a floor, because several Prometheus servers (or
a person reloading `/metrics`) must not multiply the visibility queries; by the API only,
because the numbers are the same from every process: a worker scaled to three replicas would
triple the queries and the series for nothing (under `supplybridge up` the one process serves
both). A failed refresh keeps the previous values and counts
`supplybridge_metrics_refresh_errors_total{source}`.

Decisions waiting: the running runs with `SupplyBridgeDecision` set, per `SupplyBridgeTeam`, one
count per team (ours and each `<team>-managers`; visibility groups by `ExecutionStatus` only),
the same teams `supplybridge queues` lists. Dead letters open: intake dead letters with status
`open` and event deliveries with status `dead` (as the KPI report counts them).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from domain.decisions import TEAMS, manager_team
from runtime.metrics import BusinessMetrics
from store import Store
from workflows import search_attributes as sa

REFRESH_SECONDS = 15.0
WAITING_TEAMS: tuple[str, ...] = (*TEAMS, *(manager_team(team) for team in TEAMS))
_log = logging.getLogger(__name__)


class Counted(Protocol):
    @property
    def count(self) -> int: ...


class VisibilityCounter(Protocol):
    """What is needed of a `temporalio.client.Client`."""

    async def count_workflows(self, query: str | None = None) -> Counted: ...


class DeadLetterCounter(Protocol):
    def open_dead_letters(self) -> dict[str, int]: ...


def decisions_waiting_query(team: str) -> str:
    return f'ExecutionStatus="Running" AND {sa.DECISION.name} IS NOT NULL AND {sa.TEAM.name}="{team}"'


async def decisions_waiting(client: VisibilityCounter, teams: Sequence[str] = WAITING_TEAMS) -> dict[str, int]:
    counts = await asyncio.gather(*(client.count_workflows(decisions_waiting_query(team)) for team in teams))
    return {team: counted.count for team, counted in zip(teams, counts, strict=True)}


class StoreDeadLetters:
    """`DeadLetterCounter` over the store's count query (store/alerts.py `dead_letters`, the one the
    alert rules read too)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def open_dead_letters(self) -> dict[str, int]:
        counts = self._store.alerts.dead_letters()
        return {"intake": counts.intake, "event_delivery": counts.deliveries}


class FleetGauges:
    """Refreshes the two gauges of `metrics`, at most every `every` seconds."""

    def __init__(
        self,
        metrics: BusinessMetrics,
        *,
        visibility: VisibilityCounter | None,
        dead_letters: DeadLetterCounter | None,
        every: float = REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._visibility = visibility
        self._dead_letters = dead_letters
        self._every = every
        self._clock = clock
        self._refreshed_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._refreshed_at is not None and now - self._refreshed_at < self._every:
                return
            self._refreshed_at = now
            await asyncio.gather(self._refresh_decisions(), self._refresh_dead_letters())

    async def _refresh_decisions(self) -> None:
        if self._visibility is None:
            return
        try:
            self._metrics.set_decisions_waiting(await decisions_waiting(self._visibility))
        except Exception as error:
            self._failed("visibility", error)

    async def _refresh_dead_letters(self) -> None:
        if self._dead_letters is None:
            return
        try:
            self._metrics.set_dead_letters_open(await asyncio.to_thread(self._dead_letters.open_dead_letters))
        except Exception as error:
            self._failed("store", error)

    def _failed(self, source: str, error: Exception) -> None:
        self._metrics.refresh_errors.labels(source).inc()
        _log.warning("metrics: %s could not be read (%s); keeping the previous values", source, type(error).__name__)
