"""`python -m bench.events [--events N] [--rounds R] [--rate E --seconds S]`: the event relay's
delivery rate, outbox to receiver, next to the same payloads sent by a plain loop in the same run,
and the delay from an event's commit to its receipt.

- Store: SQLite in a temp dir (WAL, one connection, as `supplybridge up` runs it); events recorded
  with `Store.append_event` (the event and its outbox rows in one transaction). The relay is the
  worker's: `EventRelayActivities.relay_events` with `worker.relay_config` and the real sinks of
  `runtime.event_sinks.build_sinks`, run by temporalio's ActivityEnvironment (no server: the
  numbers are the outbox's and the sinks', not Temporal's).
- Receivers: the signed-webhook receiver of the tests (tests/support/event_receiver.py: uvicorn on
  127.0.0.1 in a thread of this process, verifying every signature) and, when NATS answers at
  `--nats` (SUPPLYBRIDGE_TEST_NATS_URL, else nats://127.0.0.1:4222), a JetStream stream of this
  run's own read by an ordered consumer (tests/support/event_broker.py); streams deleted at the end.
- Rate, per channel, one subscription at a time: N events appended (not timed), then the relay
  started and timed until the receiver has the N-th; then the same bodies (the bytes the receiver
  got) sent one after another by a plain loop, timed the same way: an httpx POST with the sink's
  headers, signed per request; `js.publish` awaiting each acknowledgement, to a second stream (the
  first would drop them as duplicates of their `Nats-Msg-Id`). Medians of `--rounds` rounds, the
  two alternating; ratio relay / direct (goal at least 0.5).
- Latency, both subscriptions at once: events appended at a steady `--rate` for `--seconds` while
  the relay runs; from `append_event`'s return to the first arrival at each receiver. Twice: with
  the process's `OutboxBell` rung after each commit (the relay in the worker that published, as
  activities/events.py does) and without (a relay on another worker: it polls every
  `events_poll_seconds`).
No thresholds are asserted: this prints numbers (and returns them as a dict).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import ActivityEnvironment

from activities.event_relay import EventRelayActivities, OutboxBell, RelayInput, RelayResult
from adapters.event_sinks_http import EVENT_ID_HEADER, EVENT_TYPE_HEADER, IDEMPOTENCY_HEADER, USER_AGENT
from adapters.event_sinks_nats import MSG_ID_HEADER
from domain.cloud_events import CONTENT_TYPE, TYPE_PREFIX
from domain.events import BusinessEvent
from domain.subscriptions import Channel, Subscription
from runtime.event_sinks import build_sinks, close_sinks
from runtime.settings import Settings
from runtime.webhooks import SIGNATURE_HEADER, sign
from store import Store
from tests.support.event_broker import JetStreamCollector, collecting, reachable
from tests.support.event_receiver import EventReceiver, running_receiver
from worker import relay_config

GOAL = 0.5
SECRET = "bench-events-signing-secret"
DELIVERY_TIMEOUT = 300.0
KINDS = (("supplier.onboarded", "VM"), ("purchase_order.released", "PO"), ("invoice.approved", "INV"))


@dataclass(frozen=True)
class Feed:
    """What arrived at one receiver: how many so far (cheap, polled) and (event id, arrival time)
    pairs from an index on, in arrival order, duplicates included."""

    count: Callable[[], int]
    since: Callable[[int], list[tuple[str, float]]]


def bench_event(run: str, i: int) -> BusinessEvent:
    """Events of the platform's size and shape: three types, 50 subjects, a value to mask."""
    event_type, key = KINDS[i % len(KINDS)]
    subject = f"{key}-{i % 50:04d}"
    data = {"supplier_id": f"SUP-{i % 50:04d}", "tax_id": "45-2873311", "amount": f"{i * 7 % 9000}.50",
            "lines": i % 9 + 1, "ship_to": "LOC-OR-02"}  # fmt: skip
    return BusinessEvent(event_id=f"bench-{run}-{i:07d}", type=event_type, subject=subject,
                         workflow_id=f"bench-{subject}", occurred_at=datetime.now(UTC), data=data)  # fmt: skip


class Bench:
    def __init__(self, store: Store, settings: Settings, receiver: EventReceiver) -> None:
        self.store, self.settings, self.receiver = store, settings, receiver
        self.relayed: JetStreamCollector | None = None  # the relay's stream
        self.direct: JetStreamCollector | None = None  # the plain loop's stream
        self.run = uuid.uuid4().hex[:8]
        self.appended = 0
        self.append_seconds = 0.0

    def subscribe(self, channel: Channel) -> str:
        subscription_id = f"bench-{channel.value}"
        url = self.receiver.url if channel is Channel.WEBHOOK else None
        self.store.outbox.put_subscription(
            Subscription(subscription_id=subscription_id, channel=channel, types=["*"], url=url,
                         secret=SECRET if url else None, created_by="bench", created_at=datetime.now(UTC))
        )  # fmt: skip
        return subscription_id

    def append(self, count: int) -> list[str]:
        ids = []
        began = time.perf_counter()
        for _ in range(count):
            event = bench_event(self.run, self.appended)
            self.store.append_event(event)
            self.appended += 1
            ids.append(event.event_id)
        self.append_seconds += time.perf_counter() - began
        return ids

    def arrivals(self, channel: Channel, stream: JetStreamCollector | None = None) -> Feed:
        if channel is Channel.WEBHOOK:
            receiver = self.receiver
            return Feed(receiver.count, lambda i: [(r.event_id, r.at) for r in receiver.received_since(i)])
        collector = stream or self.relayed
        assert collector is not None
        return Feed(lambda: len(collector.received), lambda i: [(r.event_id, r.at) for r in collector.received[i:]])

    async def relaying(self, bell: OutboxBell, stop: asyncio.Event) -> RelayResult:
        """The worker's relay over real sinks, until `stop` (then it ends its cycle as on shutdown)."""
        sinks = build_sinks(self.settings)
        relay = EventRelayActivities(outbox=self.store.outbox, sinks=sinks, config=relay_config(self.settings),
                                     bell=bell)  # fmt: skip
        env = ActivityEnvironment()
        running = asyncio.create_task(env.run(relay.relay_events, RelayInput(cycle_seconds=3600)))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({running, stopped}, return_when=asyncio.FIRST_COMPLETED)  # a failed relay ends it too
            env.worker_shutdown()
            bell.ring()
            return await running
        finally:
            stopped.cancel()
            await close_sinks(sinks)

    async def relay_rate(self, channel: Channel, count: int) -> tuple[float, list[bytes]]:
        """Events/s from the relay's start to the count-th new arrival; the bodies that arrived."""
        arrivals = self.arrivals(channel)
        first = arrivals.count()
        await asyncio.to_thread(self.append, count)
        stop = asyncio.Event()
        began = time.monotonic()
        relay = asyncio.create_task(self.relaying(OutboxBell(), stop))
        last = await _nth_arrival(arrivals, first + count, relay)
        stop.set()
        result = await relay
        if result.delivered < count or result.retried or result.dead_lettered:
            raise SystemExit(f"the relay did not deliver {count} {channel.value} events cleanly: {result}")
        return count / (last - began), self._bodies(channel, first, count)

    def _bodies(self, channel: Channel, first: int, count: int) -> list[bytes]:
        if channel is Channel.WEBHOOK:
            return [r.body for r in self.receiver.received_since(first)[:count]]
        assert self.relayed is not None
        return [r.body for r in self.relayed.received[first : first + count]]

    async def direct_rate(self, channel: Channel, bodies: list[bytes], client: httpx.AsyncClient) -> float:
        """The same bodies by a plain loop, one after another, timed to the last arrival."""
        arrivals = self.arrivals(channel, self.direct)
        first = arrivals.count()
        began = time.monotonic()
        if channel is Channel.WEBHOOK:
            for body in bodies:
                headers = _webhook_headers(body)
                headers[SIGNATURE_HEADER] = sign(SECRET, body)
                response = await client.post(self.receiver.url, content=body, headers=headers)
                response.raise_for_status()
        else:
            assert self.direct is not None
            prefix, stream = self.direct.subject_prefix, self.direct.stream
            for body in bodies:
                event_id, event_type = _id_and_type(body)
                subject = f"{prefix}.{event_type.removeprefix(TYPE_PREFIX)}"
                headers = {MSG_ID_HEADER: event_id, "Content-Type": CONTENT_TYPE}
                await self.direct.js.publish(subject, body, stream=stream, headers=headers)
        last = await _nth_arrival(arrivals, first + len(bodies))
        return len(bodies) / (last - began)

    async def latencies(
        self, channels: Sequence[Channel], rate: float, seconds: float, bell_rung: bool
    ) -> dict[Channel, list[float]]:
        """Milliseconds from commit to first arrival, per channel, events appended at `rate`."""
        marks = {channel: self.arrivals(channel).count() for channel in channels}
        bell, stop = OutboxBell(), asyncio.Event()
        relay = asyncio.create_task(self.relaying(bell, stop))
        committed: dict[str, float] = {}
        began = time.monotonic()
        for i in range(round(rate * seconds)):
            await asyncio.sleep(max(0.0, began + i / rate - time.monotonic()))
            [event_id] = await asyncio.to_thread(self.append, 1)
            committed[event_id] = time.monotonic()
            if bell_rung:
                bell.ring()
        found: dict[Channel, list[float]] = {}
        for channel in channels:
            await _nth_arrival(self.arrivals(channel), marks[channel] + len(committed), relay)
            first: dict[str, float] = {}
            for event_id, at in self.arrivals(channel).since(marks[channel]):
                first.setdefault(event_id, at)
            found[channel] = [(first[event_id] - at) * 1000 for event_id, at in committed.items()]
        stop.set()
        await relay
        return found


async def _nth_arrival(arrivals: Feed, n: int, relay: asyncio.Task[Any] | None = None) -> float:
    """When the n-th arrival (counting duplicates) came; polled, with a deadline."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while (seen := arrivals.count()) < n:
        if relay is not None and relay.done():
            relay.result()  # raises what stopped the relay
            raise SystemExit(f"the relay stopped with {seen} of {n} delivered")
        if time.monotonic() > deadline:
            raise SystemExit(f"only {seen} of {n} arrived within {DELIVERY_TIMEOUT:.0f} s")
        await asyncio.sleep(0.005)
    return arrivals.since(n - 1)[0][1]


def _id_and_type(body: bytes) -> tuple[str, str]:
    parsed = json.loads(body)
    return str(parsed["id"]), str(parsed["type"])


def _webhook_headers(body: bytes) -> dict[str, str]:
    event_id, event_type = _id_and_type(body)
    return {"Content-Type": CONTENT_TYPE, "User-Agent": USER_AGENT, IDEMPOTENCY_HEADER: event_id,
            EVENT_ID_HEADER: event_id, EVENT_TYPE_HEADER: event_type}  # fmt: skip


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def main(count: int, rounds: int, rate: float, seconds: float, nats_url: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as state, running_receiver(SECRET) as receiver:
        tag = uuid.uuid4().hex[:10]
        settings = Settings(state_dir=Path(state), events_broker_url=nats_url, events_stream=f"BENCH_{tag}",
                            events_subject_prefix=f"bench{tag}.events")  # fmt: skip
        broker = await reachable(nats_url)
        channels = [Channel.WEBHOOK, *([Channel.BROKER] if broker else [])]
        async with AsyncExitStack() as context:
            store = context.enter_context(Store(settings.resolved_store_url))
            bench = Bench(store, settings, receiver)
            if broker:
                bench.relayed = await context.enter_async_context(
                    collecting(nats_url, settings.events_stream, settings.events_subject_prefix)
                )
                bench.direct = await context.enter_async_context(
                    collecting(nats_url, f"{settings.events_stream}_DIRECT", f"bench{tag}.direct")
                )
            client = await context.enter_async_context(
                httpx.AsyncClient(timeout=settings.http_timeout_seconds, follow_redirects=False)
            )
            rates: dict[str, dict[str, float]] = {}
            for channel in channels:
                subscription_id = bench.subscribe(channel)
                _, warm = await bench.relay_rate(channel, 50)  # connections, stream lookup, first queries
                await bench.direct_rate(channel, warm, client)
                relay, direct = [], []
                for _ in range(rounds):
                    relayed, bodies = await bench.relay_rate(channel, count)
                    relay.append(relayed)
                    direct.append(await bench.direct_rate(channel, bodies, client))
                store.outbox.remove_subscription(subscription_id)
                rates[channel.value] = {"relay": statistics.median(relay), "direct": statistics.median(direct)}
                rates[channel.value]["ratio"] = rates[channel.value]["relay"] / rates[channel.value]["direct"]
            for channel in channels:
                bench.subscribe(channel)
            latency: dict[str, dict[str, float]] = {}
            stored = bench.appended  # the store's size when the latency runs begin (due() reads it)
            for bell_rung in (True, False):
                found = await bench.latencies(channels, rate, seconds, bell_rung)
                for channel, values in found.items():
                    key = f"{channel.value} ({'bell' if bell_rung else f'poll {settings.events_poll_seconds:g} s'})"
                    latency[key] = {"p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99),
                                    "max_ms": max(values), "events": len(values)}  # fmt: skip
            appends = bench.appended / bench.append_seconds
    return {"events": count, "rounds": rounds, "rate": rate, "seconds": seconds, "broker": broker,
            "rates": rates, "latency": latency, "stored": stored, "append_per_s": appends, "goal": GOAL}  # fmt: skip


def report(result: dict[str, Any]) -> None:
    print(
        f"events: {result['events']} a round, median of {result['rounds']} rounds; SQLite store; webhook receiver "
        f"on 127.0.0.1 verifying signatures; broker {'NATS JetStream' if result['broker'] else 'not reachable'}"
    )
    print(f"{'channel':<10}{'relay ev/s':>12}{'direct ev/s':>13}{'ratio':>8}  (goal {result['goal']:.2f})")
    for channel, r in result["rates"].items():
        print(f"{channel:<10}{r['relay']:12.1f}{r['direct']:13.1f}{r['ratio']:8.2f}")
    print(
        f"commit -> receipt, {result['rate']:g} events/s for {result['seconds']:g} s, both subscriptions, "
        f"the store holding {result['stored']} events:"
    )
    print(f"{'':<22}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for key, v in result["latency"].items():
        print(f"{key:<22}{v['p50_ms']:9.1f}{v['p99_ms']:9.1f}{v['max_ms']:9.1f}")
    print(f"append_event: {result['append_per_s']:.0f} events/s (one transaction each, with its outbox rows)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="events per round and channel")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, relay and plain loop alternating")
    parser.add_argument("--rate", type=float, default=50.0, help="events/s appended in the latency phase")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each latency run")
    parser.add_argument("--nats", default=os.environ.get("SUPPLYBRIDGE_TEST_NATS_URL", "nats://127.0.0.1:4222"))
    arguments = parser.parse_args()
    report(asyncio.run(main(arguments.events, arguments.rounds, arguments.rate, arguments.seconds, arguments.nats)))
