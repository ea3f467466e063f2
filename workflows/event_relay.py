"""`event-relay`: the one long-running workflow that delivers business events to subscribers.

It runs the `relay_events` activity (activities/event_relay.py) cycle after cycle: each cycle
delivers for up to five minutes and heartbeats; a worker that dies mid-cycle is noticed within
the heartbeat timeout and the cycle starts again on a live worker, from what the outbox says is
still pending. After `CYCLES_PER_RUN` cycles it continues as new, so its history stays short.
`supplybridge up` (and any worker started with `supplybridge worker`) starts it if it is not
running (starter/operations/event_relay.py); there is one per namespace and task queue.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.event_relay import EventRelayActivities, RelayInput, RelayResult
    from workflows.kit.calls import call

RELAY_WORKFLOW_ID = "event-relay"
CYCLES_PER_RUN = 24
HEARTBEAT_TIMEOUT = timedelta(seconds=15)
# A relay never gives up: a cycle that failed (a store outage) is tried again, at most 30 s later.
RELAY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


@workflow.defn(name="EventRelay")
class EventRelayWorkflow:
    def __init__(self) -> None:
        self._total = RelayResult()
        self._cycles = 0

    @workflow.run
    async def run(self, cycle: RelayInput) -> None:
        while self._cycles < CYCLES_PER_RUN:
            result = await call(
                EventRelayActivities.relay_events,
                cycle,
                start_to_close=timedelta(seconds=cycle.cycle_seconds) + timedelta(minutes=1),
                schedule_to_close=timedelta(days=3650),
                retry=RELAY_RETRY,
                heartbeat=HEARTBEAT_TIMEOUT,
                summary="deliver the outbox to the subscribers",
            )
            self._total = self._total.add(result)
            self._cycles += 1
        workflow.continue_as_new(cycle)

    @workflow.query(name="status")
    def status(self) -> RelayResult:
        """Deliveries of this run's finished cycles (the running one is not counted yet)."""
        return self._total
