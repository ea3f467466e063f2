"""Reading a run: one `RunView` shape answers every "what happened?" question (the CLI prints
it, the API returns it), with the workflow's own typed answer kept beside it for Python callers."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, Field, PrivateAttr
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from domain.onboarding import OnboardingStage
from runtime.settings import Settings
from starter.operations.processes import run_id_candidates, workflow_for
from workflows import search_attributes as sa

M = TypeVar("M", bound=BaseModel)
QUERY_TIMEOUT = timedelta(seconds=5)
NO_ANSWER = (
    "the run did not answer its status query within {seconds:g} s (no worker is running, or the run is busy "
    "with a long step): the stage is from its search attributes; ask again for its lines and details"
)
# Stages where a run waits for someone else (a person, the vendor, the loading dock): `--wait`
# returns there.
SETTLED_STAGES = {
    OnboardingStage.AWAITING_REVIEW.value,
    "awaiting_approval",
    "awaiting_acknowledgement",
    "open",
    "on_hold",
    "awaiting_resolution",
}
REJECTED_OUTCOMES = {"rejected", "duplicate_invoice"}


class UnknownRun(LookupError):
    pass


class DecisionRefused(ValueError):
    pass


class RunView(BaseModel):
    workflow_id: str
    workflow_type: str | None = None
    status: str
    stage: str | None = None
    outcome: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    note: str | None = Field(
        default=None, description="why `result` is missing while the run runs: it did not answer its status query"
    )
    ui_url: str | None = None
    # what `result` was dumped from: the status query's answer while the run runs, its result after
    _answer: BaseModel | None = PrivateAttr(default=None)
    # who the run concerns, from its search attributes (what read access is decided on; not shown)
    _team: str | None = PrivateAttr(default=None)
    _supplier: str | None = PrivateAttr(default=None)

    @property
    def team(self) -> str | None:
        """The team that owns the run's next step (its `SupplyBridgeTeam`, else the answer's
        `assigned_team`); None when nobody does."""
        return self._team or (self.result or {}).get("assigned_team")

    @property
    def supplier(self) -> str | None:
        """The ERP supplier the run concerns (`SupplyBridgeSupplier`, else the answer's `supplier_id`)."""
        return self._supplier or (self.result or {}).get("supplier_id")

    @property
    def is_rejection(self) -> bool:
        return self.outcome in REJECTED_OUTCOMES

    @property
    def is_failure(self) -> bool:
        return self.status in {"failed", "terminated", "timed_out", "canceled"}

    def answer(self, model: type[M]) -> M | None:
        """The workflow's typed answer if it is a `model` (e.g. `PoStatus` while a PO runs,
        `PoResult` once it completed); None otherwise."""
        return self._answer if isinstance(self._answer, model) else None

    def with_answer(self, answer: BaseModel) -> RunView:
        self._answer = answer
        self.result = answer.model_dump(mode="json")
        return self


def started_view(settings: Settings, workflow_id: str, run_id: str | None = None) -> RunView:
    """What a caller that does not wait learns of a run it just started (`run_id`: its link opens
    that run) or joined."""
    return RunView(
        workflow_id=workflow_id, status="running", stage="received", ui_url=settings.workflow_url(workflow_id, run_id)
    )


async def describe_run(client: Client, settings: Settings, workflow_id: str) -> RunView:
    handle = client.get_workflow_handle(workflow_id)
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise UnknownRun(f"no workflow with id {workflow_id!r}") from error
        raise
    view = RunView(
        workflow_id=workflow_id,
        workflow_type=description.workflow_type,
        status=(description.status or WorkflowExecutionStatus.RUNNING).name.lower(),
        stage=description.typed_search_attributes.get(sa.STAGE),
        outcome=description.typed_search_attributes.get(sa.OUTCOME),
        ui_url=settings.workflow_url(workflow_id, description.run_id),
    )
    view._team = description.typed_search_attributes.get(sa.TEAM)
    view._supplier = description.typed_search_attributes.get(sa.SUPPLIER)
    workflow = workflow_for(workflow_id)
    if description.status == WorkflowExecutionStatus.RUNNING and workflow is not None:
        try:  # a query needs a worker: without one, the search attributes still tell the stage
            status = await handle.query(workflow.status, rpc_timeout=QUERY_TIMEOUT)
        except RPCError:
            view.note = NO_ANSWER.format(seconds=QUERY_TIMEOUT.total_seconds())
            return view
        if status is not None:  # an intake answers None until its file is processed
            view.with_answer(status)
            view.stage = getattr(status, "stage", view.stage)
    elif description.status == WorkflowExecutionStatus.COMPLETED:
        result = await (
            client.get_workflow_handle_for(workflow.run, workflow_id) if workflow is not None else handle
        ).result()
        if isinstance(result, BaseModel):
            view.with_answer(result)
        else:
            view.result = {"value": result}
        view.outcome = view.result.get("outcome", view.outcome) if view.result else view.outcome
    elif description.status is not None:
        try:
            await handle.result()
        except WorkflowFailureError as failure:
            view.error = failure_message(failure)
    return view


async def run_input(client: Client, workflow_id: str, input_type: type[M]) -> M | None:
    """What the run was started with: the input of the first run of its chain (a continued-as-new
    run carries its own, possibly slimmer, input), read from the start event of its history.
    None when there is no such run or its input is not an `input_type`."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    info = description.raw_description.workflow_execution_info
    first_run = info.first_run_id or description.run_id
    history = client.get_workflow_handle(workflow_id, run_id=first_run).fetch_history_events(page_size=1)
    async for event in history:
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        if not payloads:
            return None
        [value] = await client.data_converter.decode(payloads, [input_type])
        return value if isinstance(value, input_type) else None
    return None


async def wait_until_settled(client: Client, settings: Settings, workflow_id: str, timeout: float) -> RunView:
    """Poll until the run completes or waits for someone else (a review, an approval, the vendor,
    receipts, a resolution), or time runs out."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        view = await describe_run(client, settings, workflow_id)
        if view.status != "running" or view.stage in SETTLED_STAGES or time.monotonic() >= deadline:
            return view
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 1.0)


async def settle(client: Client, settings: Settings, workflow_id: str, *, wait: bool, timeout: float) -> RunView:
    """The run's view now, or (`wait`) once it settled; a run still busy when `timeout` passed
    says so in `error` (the CLI then exits 1)."""
    if not wait:
        return await describe_run(client, settings, workflow_id)
    view = await wait_until_settled(client, settings, workflow_id, timeout)
    if view.status == "running" and view.stage not in SETTLED_STAGES:
        at = f"at stage {view.stage}" if view.stage else "before its first stage (is a worker running?)"
        view.error = f"still running {at} after {timeout:.0f} s (it carries on: look again later)"
    return view


async def resolve_run_id(client: Client, ref: str) -> str:
    """The workflow id of the run `ref` names: a workflow id, a PO number (`PO-2026-000451`), an
    invoice key (`SUP-0002-NSS-889121`, or `SUP-0002/NSS-889121`) or a vendor id (`VM-200421`);
    `UnknownRun` when no run has any of the ids it may mean."""
    candidates = run_id_candidates(ref)
    for candidate in candidates:
        try:
            await client.get_workflow_handle(candidate).describe()
            return candidate
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
    if len(candidates) == 1:
        raise UnknownRun(f"no workflow with id {candidates[0]!r}")
    raise UnknownRun(
        f"no run named {ref!r}: it is not the workflow id, PO number, invoice key (<supplier>-<invoice number>) "
        "or vendor id of any run"
    )


async def ended_run_message(client: Client, workflow_id: str) -> str | None:
    """ "<workflow id> is completed (outcome X)" (or failed, terminated, ...) for a run that exists
    and has ended; None when there is no such run or it still runs."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    if description.status in (None, WorkflowExecutionStatus.RUNNING):
        return None
    outcome = description.typed_search_attributes.get(sa.OUTCOME)
    status = description.status.name.lower().replace("_", " ")
    return f"{workflow_id} is {status}" + (f" (outcome {outcome})" if outcome else "")


_GENERIC = {"Workflow execution failed", "Activity task failed", "Workflow update failed"}


def failure_message(error: BaseException) -> str:
    """The chain of causes without the generic wrappers: "onboarding failed ...: contracts refused: ..."."""
    messages: list[str] = []
    current: BaseException | None = error
    while current is not None:
        text = getattr(current, "message", None) or str(current)
        if text and text not in _GENERIC and not any(text in m for m in messages):
            messages.append(text)
        current = current.__cause__
    return messages[0] if len(messages) == 1 else "; ".join(messages) if messages else type(error).__name__
