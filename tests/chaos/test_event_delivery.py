"""Business events reach their subscribers through a receiver outage and a worker killed mid
delivery, as a user sets it up: a signed webhook receiver (tests/support/event_receiver.py) and,
when `SUPPLYBRIDGE_TEST_NATS_URL` is set, NATS JetStream, subscribed with `supplybridge
subscriptions add`; onboardings, POs and invoices run on the chaos stack (tests/chaos/stack.py).

- the receiver goes away (its socket closed) for `RECEIVER_DOWN_SECONDS` while events are
  recorded (the issue's checker keeps it down a minute; 5 s shows the same: a failed attempt is
  counted, the subscription's later events wait behind it) and comes back;
- a burst of events goes to the receiver, slowed to `SLOW_RECEIVER_SECONDS` a delivery; once the
  burst's runs have settled (a worker killed mid-activity waits out that activity's 30 s timeout,
  which test_worker_kill.py covers), the worker is SIGKILLed with some of the burst delivered and
  the rest pending or in flight, and started again (the relay's cycle resumes on it after the
  15 s heartbeat timeout; the copy in flight arrives twice);
- once every run settled and the outbox holds nothing pending: every event recorded since the
  subscriptions were added reached the receiver (and the stream) at least once; a copy is only
  ever the same event again; per subject the first arrivals come in `sequence` order; every
  signature verified; every body validates against the schema the API serves for its type.

The broker settings reach the stack's processes through the environment (`ChaosStack.env`
starts from `os.environ`): a stream and subject prefix of this test's own, deleted at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import httpx
import jsonschema
import pytest

from domain.cloud_events import TYPE_PREFIX, cloud_type
from domain.events import BusinessEvent
from domain.onboarding import onboarding_workflow_id
from domain.po_models import ReceiptRequest
from domain.purchasing import invoice_workflow_id, purchase_order_workflow_id
from domain.subscriptions import DeliveryStatus
from starter import operations as ops
from store import Store
from tests.chaos.stack import CLI, ChaosStack, chaos_stack, until
from tests.chaos.test_worker_kill import SUPPLIER, invoice, purchase_order
from tests.examples import supplier_request
from tests.support.event_broker import JetStreamCollector, collecting
from tests.support.event_receiver import running_receiver

pytestmark = pytest.mark.e2e
NATS_URL = os.environ.get("SUPPLYBRIDGE_TEST_NATS_URL")
RECEIVER_DOWN_SECONDS = 5.0
SLOW_RECEIVER_SECONDS = 1.0  # per delivery during the burst: a backlog when the worker dies
SECRET = "chaos-receiver-signing-secret"
WEBHOOK = "chaos-receiver"
BROKER = "chaos-broker"
SCHEMAS = "/v1/events/schemas"


class Arrival(Protocol):
    """A webhook delivery or a stream message, as the test support records them."""

    @property
    def event_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def sequence(self) -> int | None: ...

    def json(self) -> dict[str, Any]: ...


async def cli(stack: ChaosStack, *args: str) -> dict[str, Any]:
    """`supplybridge <args> --json` with the stack's environment (its state dir, hence its store)."""
    done = await asyncio.to_thread(
        subprocess.run, [*CLI, *args, "--json"], capture_output=True, env=stack.env, timeout=60
    )
    assert done.returncode == 0, (args, done.stdout.decode()[-2000:], done.stderr.decode()[-2000:])
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


async def onboard(stack: ChaosStack, tag: str) -> str:
    """A new supplier of its own (unrelated name and tax id: no duplicate review)."""
    assert stack.client is not None
    vendor_id = f"VM-{tag}"
    request = supplier_request(
        "new-supplier",
        source={"system": "vendor_management", "id": vendor_id},
        legal_name=f"Chaos {uuid.uuid4().hex[:12]} Medical LLC",
        tax_id={"kind": "EIN", "value": f"46-{uuid.uuid4().int % 10_000_000:07d}"},
    )
    await ops.start_onboarding(stack.client, stack.settings, request)
    return onboarding_workflow_id(vendor_id)


async def order(stack: ChaosStack, number: str) -> str:
    assert stack.client is not None
    await ops.start_purchase_order(stack.client, stack.settings, purchase_order(number), submitted_by="chaos")
    return purchase_order_workflow_id(number)


def store_of(stack: ChaosStack) -> Store:
    return Store(stack.settings.resolved_store_url, migrate=False)


def recorded_events(store: Store) -> dict[str, BusinessEvent]:
    found: dict[str, BusinessEvent] = {}
    while page := store.list_events(limit=500, offset=len(found)):
        found.update((e.event_id, e) for e in page)
    return found


def pending(store: Store, subscription_id: str | None = None) -> int:
    return len(store.outbox.deliveries(subscription_id, DeliveryStatus.PENDING, limit=500))


@asynccontextmanager
async def broker_collector(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[JetStreamCollector | None]:
    """With SUPPLYBRIDGE_TEST_NATS_URL: the broker settings in the environment the stack's
    processes start with, and a collector of this test's stream (deleted at the end)."""
    if NATS_URL is None:
        yield None
        return
    tag = uuid.uuid4().hex[:10]
    stream, prefix = f"CHAOS_{tag}", f"chaos{tag}.events"
    for name, value in (("BROKER_URL", NATS_URL), ("STREAM", stream), ("SUBJECT_PREFIX", prefix)):
        monkeypatch.setenv(f"SUPPLYBRIDGE_EVENTS_{name}", value)
    async with collecting(NATS_URL, stream, prefix) as collector:
        yield collector


async def test_events_reach_subscribers_through_a_receiver_outage_and_a_worker_kill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with AsyncExitStack() as context:
        broker = await context.enter_async_context(broker_collector(monkeypatch))
        receiver = context.enter_context(running_receiver(SECRET))
        stack = await context.enter_async_context(chaos_stack(tmp_path / "state"))
        assert stack.client is not None
        await cli(stack, "subscriptions", "add", WEBHOOK, "--webhook", receiver.url, "--types", "*",
                  "--secret", SECRET, "--by", "chaos")  # fmt: skip
        if broker is not None:
            await cli(stack, "subscriptions", "add", BROKER, "--broker", "--types", "*", "--by", "chaos")
        store = context.enter_context(store_of(stack))
        before = set(recorded_events(store))  # no backfill: the events from here on are delivered
        runs: list[str] = []

        # Events flow: onboardings and purchase orders.
        runs += [await onboard(stack, f"C10{i}") for i in range(2)]
        numbers = [f"PO-2027-7300{i:02d}" for i in range(5)]
        runs += [await order(stack, n) for n in numbers[:3]]
        await until(lambda: asyncio.sleep(0, receiver.received), timeout=30, what="a first event at the receiver")

        # The receiver goes away while more are recorded: attempts fail, the rest waits behind.
        receiver.down()
        went_down = time.monotonic()
        runs += [await onboard(stack, f"C20{i}") for i in range(2)]
        runs += [await order(stack, n) for n in numbers[3:]]

        def failed_attempt() -> bool:
            return any(d.attempts for d in store.outbox.deliveries(WEBHOOK, DeliveryStatus.PENDING, limit=500))

        await until(lambda: asyncio.to_thread(failed_attempt), timeout=30, what="a failed delivery attempt")
        await asyncio.sleep(max(0.0, RECEIVER_DOWN_SECONDS - (time.monotonic() - went_down)))
        receiver.up()

        # A burst (receipts, invoices, onboardings) to a slow receiver: once its runs settled (a
        # worker killed mid-activity costs the activity's 30 s timeout, not what this is about),
        # the worker is killed with some of it delivered and the rest pending or in flight.
        views = await stack.converged([purchase_order_workflow_id(n) for n in numbers], timeout=60)
        opened = [n for n in numbers if views[purchase_order_workflow_id(n)].stage == "open"]
        assert opened, {w: (v.stage, v.status) for w, v in views.items()}
        await until(lambda: asyncio.to_thread(lambda: pending(store, WEBHOOK) == 0), timeout=60,
                    what="the outage's backlog delivered")  # fmt: skip
        receiver.delay = SLOW_RECEIVER_SECONDS
        arrived_before_burst = len(receiver.received)
        burst: list[str] = []
        for number in opened:
            for line, quantity in ((1, 20), (2, 10)):
                await ops.record_receipt(stack.client, number, ReceiptRequest(line=line, quantity=Decimal(quantity),
                                                                              received_by="dock"))  # fmt: skip
        invoices = {f"NSS-79{i:04d}": number for i, number in enumerate(opened)}
        for invoice_number, po_number in invoices.items():
            await ops.start_invoice(stack.client, stack.settings, invoice(invoice_number, po_number),
                                    submitted_by="chaos")  # fmt: skip
        burst += [invoice_workflow_id(SUPPLIER, n) for n in invoices]
        burst += [await onboard(stack, f"C30{i}") for i in range(3)]
        await stack.converged(burst, timeout=60)
        runs += burst

        def mid_burst() -> bool:
            return len(receiver.received) > arrived_before_burst and pending(store, WEBHOOK) > 0

        await until(lambda: asyncio.to_thread(mid_burst), timeout=30, what="some of the burst delivered, not all")
        stack.kill_worker()
        killed_at = f"killed with {len(receiver.received) - arrived_before_burst} of the burst delivered"
        receiver.delay = 0.0
        await stack.start_worker()

        # Everything settles, and the outbox drains (the relay's cycle resumes on the new worker).
        await stack.converged(runs, timeout=60)
        await until(lambda: asyncio.to_thread(lambda: pending(store) == 0), timeout=60, what="an empty outbox")
        events = {i: e for i, e in recorded_events(store).items() if i not in before}
        assert {e.type.split(".")[0] for e in events.values()} >= {"supplier", "purchase_order", "invoice"}, events
        assert not store.outbox.deliveries(status=DeliveryStatus.DEAD), "nothing is dead-lettered"
        if broker is not None:
            await until(lambda: asyncio.sleep(0, set(events) <= set(broker.ids())), timeout=30,
                        what="every event in the stream")  # fmt: skip

        assert not receiver.refused, [(r.status, r.reason) for r in receiver.refused]  # every signature verified
        assert all(r.event_id_header == r.event_id for r in receiver.received)
        check_arrivals("webhook", receiver.received, events, recorded_events(store), note=killed_at)
        if broker is not None:
            check_arrivals("broker", broker.received, events, recorded_events(store))
            prefix = broker.subject_prefix
            assert all(r.nats_subject == f"{prefix}.{r.type.removeprefix(TYPE_PREFIX)}" for r in broker.received)
            assert all(r.msg_id == r.event_id for r in broker.received)

        arrivals: list[Arrival] = [*receiver.first_arrivals(), *(broker.received if broker else [])]
        await check_schemas(stack, arrivals)


def check_arrivals(
    channel: str,
    arrivals: Sequence[Arrival],
    expected: dict[str, BusinessEvent],
    recorded: dict[str, BusinessEvent],
    note: str = "",
) -> None:
    """At least once, copies identical, each the event the store holds, per subject in order."""
    copies: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for arrival in arrivals:
        copies[arrival.event_id].append(arrival.json())
    missing = sorted(set(expected) - set(copies))
    assert not missing, f"{channel}: {len(missing)} of {len(expected)} events never arrived: {missing[:5]} {note}"
    unknown = sorted(set(copies) - set(recorded))
    assert not unknown, f"{channel}: delivered events the store does not hold: {unknown[:5]}"
    for event_id, bodies in copies.items():
        # A copy is the same event saying the same; only `dataschema` may move with a deployment
        # between two attempts (a newer worker delivering it again).
        same = [{k: v for k, v in b.items() if k != "dataschema"} for b in bodies]
        assert all(b == same[0] for b in same), f"{channel}: copies of {event_id} differ: {bodies}"
        stored = recorded[event_id]
        assert (bodies[0]["type"], bodies[0]["subject"]) == (cloud_type(stored.type), stored.subject), event_id

    first: dict[str, list[int]] = defaultdict(list)
    seen: set[str] = set()
    for arrival in arrivals:
        if arrival.event_id not in seen:
            seen.add(arrival.event_id)
            assert arrival.subject is not None and arrival.sequence is not None, arrival.event_id
            first[arrival.subject].append(arrival.sequence)
    out_of_order = {s: q for s, q in first.items() if q != sorted(q) or len(set(q)) != len(q)}
    assert not out_of_order, f"{channel}: first arrivals out of sequence order per subject: {out_of_order}"


async def check_schemas(stack: ChaosStack, arrivals: Sequence[Arrival]) -> None:
    """Each body against `GET /v1/events/schemas/<type>` of the stack's API, and its `data`
    against the schema its `dataschema` names (served by the same API)."""
    schemas: dict[str, dict[str, Any]] = {}
    async with httpx.AsyncClient(timeout=30) as api:
        if (await api.get(f"{stack.settings.api_url}{SCHEMAS}")).status_code == 404:
            pytest.skip(f"every delivery check passed; the schema check did not run: {SCHEMAS} is not served")

        async def schema(url: str) -> dict[str, Any]:
            if url not in schemas:
                answer = await api.get(url)
                assert answer.status_code == 200, (url, answer.status_code, answer.text[:500])
                schemas[url] = answer.json()
            return schemas[url]

        for arrival in arrivals:
            body = arrival.json()
            our_type = arrival.type.removeprefix(TYPE_PREFIX)
            matches(body, await schema(f"{stack.settings.api_url}{SCHEMAS}/{our_type}"), arrival.event_id)
            named = body.get("dataschema")
            assert isinstance(named, str) and named.startswith(f"{stack.settings.api_url}{SCHEMAS}/"), named
            matches(body["data"], await schema(named), f"{arrival.event_id} data")


def matches(instance: Any, schema: dict[str, Any], what: str) -> None:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]
    assert not problems, f"{what} does not match {schema.get('$id')}: {problems[:5]}"
