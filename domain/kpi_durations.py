"""Durations between business events, the statistics of the KPI report (domain/kpis.py): each
start paired with its end (`pair`), and a set of durations summarised as nearest-rank
percentiles, mean, maximum and a fixed histogram (`durations`). Pure."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

from domain.events import BusinessEvent
from domain.kpi_models import Durations, HistogramBin, KpiWindow

# (label, lower bound in seconds); each bin runs to the next one's lower bound, the last is open
HISTOGRAM_BINS: tuple[tuple[str, float], ...] = (
    ("< 10 s", 0), ("10 s - 1 min", 10), ("1 - 5 min", 60), ("5 - 15 min", 300), ("15 min - 1 h", 900),
    ("1 - 4 h", 3600), ("4 - 24 h", 4 * 3600), ("1 - 3 d", 86400), ("3 - 7 d", 3 * 86400),
    ("7 - 30 d", 7 * 86400), ("30 d or more", 30 * 86400),
)  # fmt: skip


# --- statistics -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least `p` % of the values at or below it
    (`sorted(values)[ceil(p/100 * n) - 1]`, the first value for p = 0). No interpolation, so it
    is always one of the values and anyone can recompute it exactly."""
    if not values:
        raise ValueError("no values")
    if not 0 <= p <= 100:
        raise ValueError("p is a percentage, 0 to 100")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def histogram(values: Iterable[float]) -> list[HistogramBin]:
    counts = [0] * len(HISTOGRAM_BINS)
    lowers = [lower for _, lower in HISTOGRAM_BINS]
    for value in values:
        counts[max(i for i, lower in enumerate(lowers) if value >= lower or i == 0)] += 1
    uppers: list[float | None] = [*lowers[1:], None]
    return [HistogramBin(label=label, lower_seconds=lower, upper_seconds=upper, count=count)
            for (label, lower), upper, count in zip(HISTOGRAM_BINS, uppers, counts, strict=True)]  # fmt: skip


def durations(values: Sequence[float], unmatched: int = 0) -> Durations:
    if not values:
        return Durations(unmatched=unmatched, histogram=histogram([]))
    return Durations(
        count=len(values),
        p50_seconds=_round(percentile(values, 50)),
        p90_seconds=_round(percentile(values, 90)),
        mean_seconds=_round(sum(values) / len(values)),
        max_seconds=_round(max(values)),
        unmatched=unmatched,
        histogram=histogram(values),
    )


def _round(seconds: float) -> float:
    return round(seconds, 3)


# --- pairing starts with ends ---------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    start: BusinessEvent
    end: BusinessEvent

    @property
    def seconds(self) -> float:
        return (self.end.occurred_at - self.start.occurred_at).total_seconds()


@dataclass(frozen=True)
class Pairing:
    intervals: list[Interval]  # those whose end is in the window
    unmatched: int  # ends in the window with no start (before the lookback, or never recorded)
    open_starts: list[BusinessEvent]  # starts with no end before the window's end


def pair(
    events: Iterable[BusinessEvent],
    starts: Sequence[str],
    ends: Sequence[str],
    key: Callable[[BusinessEvent], Hashable],
    window: KpiWindow,
) -> Pairing:
    """Each start pairs with the first end of the same key after it (a start with a start still
    open replaces it); later ends of a key whose start was used are repeats, ignored (a second
    acknowledgement of a PO). Events at or after the window's end are not read."""
    relevant = [e for e in events if e.type in starts or e.type in ends]
    relevant.sort(key=lambda e: (e.occurred_at, e.type not in starts, e.event_id))  # a start first at one instant
    opened: dict[Hashable, BusinessEvent] = {}
    closed: set[Hashable] = set()
    intervals: list[Interval] = []
    unmatched = 0
    for event in relevant:
        if event.occurred_at >= window.until:
            break
        k = key(event)
        if event.type in starts:
            opened[k] = event
            continue
        start = opened.pop(k, None)
        if start is not None:
            closed.add(k)
            if window.contains(event.occurred_at):
                intervals.append(Interval(start, event))
        elif k not in closed and window.contains(event.occurred_at):
            unmatched += 1
    return Pairing(intervals, unmatched, list(opened.values()))


def run_id_of(event: BusinessEvent) -> str | None:
    """The run that published the event: its id is `<workflow id>:<run id>:<n>:<type>`
    (workflows/kit/events.py); None for an event with a key of its own."""
    prefix = f"{event.workflow_id}:"
    if event.workflow_id is None or not event.event_id.startswith(prefix):
        return None
    parts = event.event_id[len(prefix) :].split(":")
    return parts[0] if len(parts) >= 3 else None
