"""The alert evaluation's one activity: gather what the rules read, evaluate (domain/alerts.py) and
write the outcome to the store (store/alerts.py); the workflow then publishes the notices.

Where each fact comes from (never from counters a restart would lose):
- decisions past their SLA: Temporal visibility, running runs whose `SupplyBridgeTeam` is a
  managers team (the escalation set it when the SLA passed);
- dead letters and sync accuracy: the store (`AlertStorePort`);
- calls failing per system: a probe of each system by this activity (`GET` of its base URL
  through its `SystemClient`: an answer, even a 404, is a system that answers; a transient
  failure or refused credentials is one that does not), kept in the store for the rule's window;
  and the running runs whose pending activity is retrying a `<system>.transient` failure (their
  describe's pending activities: attempt > 1 and the last failure). Retries of local activities
  do not show there; the probes see the same outage;
- failed runs: visibility (`Failed` or `TimedOut`, closed within the rule's window), each checked
  against its workflow's latest run (a run reset or run again is no longer failed).

A fact that could not be read this time (Temporal or the store did not answer) is left out
(`unobserved`), and the alerts that read it stay as they are. The activity heartbeats as it goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from temporalio import activity
from temporalio.api.workflow.v1 import PendingActivityInfo
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError

from adapters.errors import AdapterError, AuthenticationError, TransientError
from domain.alert_facts import (
    AlertFacts,
    AlertKind,
    DeadLetterCounts,
    FailedRun,
    SyncAccuracy,
    SystemCall,
    failing_system,
    scrub,
)
from domain.alerts import AlertNotice, AlertPlan, EvaluateAlertsInput, EvaluateAlertsResult, OpenAlert, evaluate
from domain.decisions import TEAMS, manager_team
from workflows import search_attributes as sa

T = TypeVar("T")
PROBE_SECONDS = 15.0
RUNS_DESCRIBED = 300  # running runs looked at for retrying activities, newest first
FAILED_RUNS_READ = 200
DESCRIBE_AT_ONCE = 16
MANAGERS = "-managers"
log = logging.getLogger(__name__)


class AlertStorePort(Protocol):
    """The alerts and the records the rules read (`store.alerts`, store/alerts.py)."""

    def open_alerts(self) -> list[OpenAlert]: ...

    def apply(
        self, plan: AlertPlan, evaluation_id: str, now: datetime, renotify_after: timedelta
    ) -> list[AlertNotice]: ...

    def open_count(self) -> int: ...

    def record_checks(self, checks: Sequence[SystemCall], now: datetime) -> None: ...

    def checks_since(self, since: datetime) -> list[SystemCall]: ...

    def dead_letters(self) -> DeadLetterCounts: ...

    def sync_accuracy(self) -> list[SyncAccuracy]: ...


class RunsPort(Protocol):
    """What Temporal knows of the runs (`TemporalRuns`)."""

    async def escalated(self) -> dict[str, list[str]]:
        """Team -> its running runs escalated to its managers."""
        ...

    async def retrying_calls(self) -> list[SystemCall]:
        """A failed call per running run whose pending activity retries a system's transient failure."""
        ...

    async def failed_runs(self, since: datetime) -> list[FailedRun]: ...


class ProbeTarget(Protocol):
    """A system's HTTP API as adapters/http.py's `SystemClient` is."""

    system: str

    async def request(self, method: str, path: str) -> Any: ...


class AlertActivities:
    def __init__(
        self,
        *,
        alerts: AlertStorePort,
        runs: RunsPort,
        probes: Sequence[ProbeTarget] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._alerts = alerts
        self._runs = runs
        self._probes = list(probes)
        self._clock = clock

    @activity.defn(name="evaluate_alerts")
    async def evaluate_alerts(self, params: EvaluateAlertsInput) -> EvaluateAlertsResult:
        """Check every rule; raise, re-notify and resolve alerts in the store; return the notices
        of this evaluation (also those an earlier attempt of it made)."""
        now = self._clock()
        facts, unobserved = await self._gather(params, now)
        _beat()
        opened = await asyncio.to_thread(self._alerts.open_alerts)
        plan = evaluate(params.rules, facts, opened, now, params.renotify_after)
        notices = await asyncio.to_thread(self._alerts.apply, plan, params.evaluation_id, now, params.renotify_after)
        still_open = await asyncio.to_thread(self._alerts.open_count)
        return EvaluateAlertsResult(notices=notices, open=still_open, unobserved=unobserved)

    async def _gather(self, params: EvaluateAlertsInput, now: datetime) -> tuple[AlertFacts, list[str]]:
        windows: dict[AlertKind, timedelta] = {}
        for rule in params.rules:
            windows[rule.kind] = max(windows.get(rule.kind, rule.window), rule.window)
        unobserved: list[str] = []

        async def read(what: str, reader: Callable[[], Awaitable[T]]) -> T | None:
            try:
                return await reader()
            except Exception as error:  # a source that did not answer: its kinds stay as they are
                log.warning("alerts: could not read %s: %s", what, error)
                unobserved.append(scrub(f"{what}: {type(error).__name__}: {error}", 300))
                return None
            finally:
                _beat()

        facts = AlertFacts()
        if AlertKind.SLA_BREACHED in windows:
            facts.escalated = await read("runs past their SLA", self._runs.escalated)
        if AlertKind.DEAD_LETTERS_ABOVE in windows:
            facts.dead_letters = await read("dead letters", lambda: asyncio.to_thread(self._alerts.dead_letters))
        if AlertKind.SYNC_ACCURACY_BELOW in windows:
            facts.syncs = await read("sync accuracy", lambda: asyncio.to_thread(self._alerts.sync_accuracy))
        if AlertKind.SYSTEM_FAILING in windows:
            calls_since = now - windows[AlertKind.SYSTEM_FAILING]
            facts.calls = await read("system calls", lambda: self._calls(now, calls_since))
        if AlertKind.RUN_FAILED in windows:
            failed_since = now - windows[AlertKind.RUN_FAILED]
            facts.failed_runs = await read("failed runs", lambda: self._runs.failed_runs(failed_since))
        return facts, unobserved

    async def _calls(self, now: datetime, since: datetime) -> list[SystemCall]:
        """This evaluation's probes (kept), those of the window before, and the runs retrying."""
        probes = await asyncio.gather(*(probe(target, now) for target in self._probes))
        await asyncio.to_thread(self._alerts.record_checks, probes, now)
        earlier = await asyncio.to_thread(self._alerts.checks_since, since)
        return [*earlier, *await self._runs.retrying_calls()]


async def probe(target: ProbeTarget, now: datetime) -> SystemCall:
    """One call to the system: ok when it answers (any answer but a transient failure or refused
    credentials)."""
    system = target.system
    try:
        await asyncio.wait_for(target.request("GET", "/"), timeout=PROBE_SECONDS)
    except TransientError as error:
        return SystemCall(system=system, at=now, ok=False, error=scrub(f"{system} unavailable: {error.message}", 300))
    except AuthenticationError as error:
        return SystemCall(system=system, at=now, ok=False, error=scrub(f"{system} refused us: {error.message}", 300))
    except AdapterError:
        pass  # it answered (a 404 for its base URL is an answer)
    except TimeoutError:
        return SystemCall(system=system, at=now, ok=False, error=f"{system} did not answer within {PROBE_SECONDS:g} s")
    except Exception as error:  # anything else is the probe's failure to reach it
        return SystemCall(system=system, at=now, ok=False, error=scrub(f"{system}: {type(error).__name__}", 300))
    return SystemCall(system=system, at=now, ok=True)


class TemporalRuns:
    """`RunsPort` over Temporal visibility, with the client of the activity that calls it."""

    def __init__(self, client: Client | None = None, *, described: int = RUNS_DESCRIBED) -> None:
        self._client = client
        self._described = described

    @property
    def client(self) -> Client:
        return self._client or activity.client()

    async def escalated(self) -> dict[str, list[str]]:
        managers = ", ".join(f"'{manager_team(team)}'" for team in TEAMS)
        query = f"ExecutionStatus = 'Running' AND {sa.TEAM.name} IN ({managers})"
        found: dict[str, list[str]] = defaultdict(list)
        async for execution in self.client.list_workflows(query):
            team = execution.typed_search_attributes.get(sa.TEAM)
            if team:
                found[team.removesuffix(MANAGERS)].append(execution.id)
        return dict(found)

    async def retrying_calls(self) -> list[SystemCall]:
        running = self.client.list_workflows("ExecutionStatus = 'Running'", limit=self._described)
        ids = sorted({execution.id async for execution in running})
        at_once = asyncio.Semaphore(DESCRIBE_AT_ONCE)

        async def calls_of(workflow_id: str) -> list[SystemCall]:
            async with at_once:
                try:
                    description = await self.client.get_workflow_handle(workflow_id).describe()
                except RPCError:
                    return []  # gone meanwhile
            _beat()
            pending = description.raw_description.pending_activities
            return [call for info in pending if (call := retrying_call(workflow_id, info)) is not None]

        return [call for calls in await asyncio.gather(*(calls_of(i) for i in ids)) for call in calls]

    async def failed_runs(self, since: datetime) -> list[FailedRun]:
        closed = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = f"(ExecutionStatus = 'Failed' OR ExecutionStatus = 'TimedOut') AND CloseTime > '{closed}'"
        ids = sorted({e.id async for e in self.client.list_workflows(query, limit=FAILED_RUNS_READ)})
        found = await asyncio.gather(*(self._still_failed(workflow_id) for workflow_id in ids))
        return [run for run in found if run is not None]

    async def _still_failed(self, workflow_id: str) -> FailedRun | None:
        """The workflow's latest run, when it failed (None when it was reset or run again)."""
        try:
            description = await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError:
            return None
        if description.status not in (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TIMED_OUT):
            return None
        _beat()
        handle = self.client.get_workflow_handle(workflow_id, run_id=description.run_id)
        try:
            await handle.result(follow_runs=False)
        except WorkflowFailureError as failure:
            error = causes(failure)
        except Exception as other:  # its history could not be read: the status still tells
            error = type(other).__name__
        else:
            error = ""
        return FailedRun(workflow_id=workflow_id, workflow_type=description.workflow_type,
                         closed_at=description.close_time or datetime.now(UTC), error=scrub(error, 300))  # fmt: skip


def retrying_call(workflow_id: str, info: PendingActivityInfo) -> SystemCall | None:
    """A failed call of the system a pending activity retries (attempt > 1, last failure a
    `<system>.transient`), else None."""
    if info.attempt < 2 or not info.HasField("last_failure"):
        return None
    failure: Any = info.last_failure
    while failure is not None:
        system = failing_system(failure.application_failure_info.type)
        if system is not None:
            at = (
                info.last_attempt_complete_time.ToDatetime(tzinfo=UTC)
                if info.HasField("last_attempt_complete_time")
                else None
            )
            return SystemCall(system=system, at=at or datetime.now(UTC), ok=False, error=scrub(failure.message, 300),
                              workflow_id=workflow_id)  # fmt: skip
        failure = failure.cause if failure.HasField("cause") else None
    return None


_GENERIC = {"Workflow execution failed", "Activity task failed"}


def causes(error: BaseException) -> str:
    """The chain of causes without the generic wrappers, on one line."""
    messages: list[str] = []
    current: BaseException | None = error
    while current is not None:
        text = str(getattr(current, "message", None) or current)
        if text and text not in _GENERIC and text not in messages:
            messages.append(text)
        current = current.__cause__
    return "; ".join(messages) or type(error).__name__


def _beat() -> None:
    if activity.in_activity():
        activity.heartbeat()
