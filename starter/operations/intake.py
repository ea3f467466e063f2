"""Files into the pipeline from the outside (the CLI's `intake`, `POST /v1/intake/files`): the
bytes kept in the store under their content hash, then the file's intake workflow; the same bytes
again are answered as a duplicate of the first intake, not processed twice. And a dead letter run
again (`dead-letters replay`, `POST /v1/dead-letters/{id}/replay`): once, as `intake-replay-<id>`."""

from __future__ import annotations

import asyncio
from hashlib import sha256

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from adapters.intake_store import IntakeStorePort
from domain.intake import (
    DeadLetterStatus,
    FileKind,
    InboxInput,
    IntakeFileInput,
    IntakeResult,
    IntakeSource,
    ReplayInput,
    ReplayResult,
    intake_workflow_id,
    replay_workflow_id,
)
from runtime.settings import Settings
from workflows.intake import IntakeFileWorkflow, IntakeReplayWorkflow


class StillProcessing(TimeoutError):
    """The file (or replay) is taken and still running after the wait; its run id says where."""

    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"{workflow_id} is still running; read it later with `supplybridge status {workflow_id}`")
        self.workflow_id = workflow_id


class NotReplayable(ValueError):
    pass


async def submit_file(
    client: Client,
    settings: Settings,
    store: IntakeStorePort,
    name: str,
    data: bytes,
    source: IntakeSource,
    submitted_by: str,
    *,
    wait: float = 60,
) -> IntakeResult:
    file_id = sha256(data).hexdigest()
    if not await asyncio.to_thread(store.save_file, file_id, name, source, data):
        earlier = await asyncio.to_thread(store.file_result, file_id)
        return IntakeResult(file_id=file_id, name=name, kind=earlier.kind if earlier else FileKind.UNKNOWN,
                            duplicate_of=intake_workflow_id(file_id))  # fmt: skip
    params = IntakeFileInput(file_id=file_id, name=name, source=source, submitted_by=submitted_by)
    workflow_id = intake_workflow_id(file_id)
    handle = await client.start_workflow(
        IntakeFileWorkflow.run, params, id=workflow_id, task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, static_summary=f"Intake of {name}",
    )  # fmt: skip
    try:
        return await asyncio.wait_for(handle.result(), timeout=wait)
    except TimeoutError:
        raise StillProcessing(workflow_id) from None


async def replay_dead_letter(
    client: Client, settings: Settings, store: IntakeStorePort, letter_id: int, replayed_by: str, *, wait: float = 60
) -> ReplayResult:
    letter = await asyncio.to_thread(store.get_dead_letter, letter_id)
    if letter is None:
        raise LookupError(f"dead letter {letter_id} does not exist")
    if letter.status is not DeadLetterStatus.OPEN:
        raise NotReplayable(f"dead letter {letter_id} is {letter.status.value}: {letter.resolution or ''}".rstrip(": "))
    workflow_id = replay_workflow_id(letter_id)
    try:
        handle = await client.start_workflow(
            IntakeReplayWorkflow.run, ReplayInput(dead_letter_id=letter_id, replayed_by=replayed_by), id=workflow_id,
            task_queue=settings.task_queue, id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, static_summary=f"Replay of dead letter {letter_id}",
        )  # fmt: skip
    except WorkflowAlreadyStartedError:
        raise NotReplayable(f"dead letter {letter_id} was replayed already ({workflow_id})") from None
    try:
        return await asyncio.wait_for(handle.result(), timeout=wait)
    except TimeoutError:
        raise StillProcessing(workflow_id) from None


def inbox_input(settings: Settings) -> InboxInput:
    return InboxInput(inbox_dir=str(settings.resolved_intake_inbox), ack_sla_minutes=settings.edi_ack_sla_minutes)
