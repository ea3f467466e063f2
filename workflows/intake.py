"""File intake (`intake-<content hash>`): one run per file taken, whatever brought it (the CLI,
`POST /v1/intake/files`, the watched inbox). One heartbeating activity reads the file, checks each
X12 envelope (or recognises the CSV's column map), turns every record into the governed workflow
call a JSON request makes (an 855 is the PO's acknowledgement, an 810 starts the invoice, a CSV
row an onboarding...), dead-letters what cannot be (with its bytes, partner, reason and position),
and sends the partner its 997/999 (a TA1 for an interchange refused as a whole). High volume stays
inside the activity: the workflows it starts are one per business object.

`intake-replay-<dead letter id>` runs one dead letter through the same pipeline again (after its
cause was fixed): once, whatever happens next (its id is never reused).

`intake-inbox` (a Temporal Schedule, every minute by default) takes the files dropped in the
watched folder, runs each through its intake, and moves it to `archive/` (or `rejected/` with a
`.reason.json` beside it).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.intake import IntakeActivities
    from domain.intake import InboxInput, InboxResult, IntakeFileInput, IntakeResult, ReplayInput, ReplayResult
    from workflows.kit.calls import call

PROCESSING_DEADLINE = timedelta(hours=2)
HEARTBEAT = timedelta(seconds=60)


@workflow.defn(name="IntakeFile")
class IntakeFileWorkflow:
    def __init__(self) -> None:
        self._result: IntakeResult | None = None

    @workflow.run
    async def run(self, params: IntakeFileInput) -> IntakeResult:
        self._result = await call(IntakeActivities.process_file, params, start_to_close=PROCESSING_DEADLINE,
                                  heartbeat=HEARTBEAT, summary=params.name)  # fmt: skip
        return self._result

    @workflow.query(name="status")
    def status(self) -> IntakeResult | None:
        """None until the file is processed."""
        return self._result


@workflow.defn(name="IntakeReplay")
class IntakeReplayWorkflow:
    def __init__(self) -> None:
        self._result: ReplayResult | None = None

    @workflow.run
    async def run(self, params: ReplayInput) -> ReplayResult:
        self._result = await call(IntakeActivities.replay_dead_letter, params, heartbeat=HEARTBEAT)
        return self._result

    @workflow.query(name="status")
    def status(self) -> ReplayResult | None:
        return self._result


@workflow.defn(name="IntakeInbox")
class IntakeInboxWorkflow:
    def __init__(self) -> None:
        self._result: InboxResult | None = None

    @workflow.run
    async def run(self, params: InboxInput) -> InboxResult:
        self._result = await call(IntakeActivities.scan_inbox, params, start_to_close=PROCESSING_DEADLINE,
                                  heartbeat=HEARTBEAT, summary=params.inbox_dir)  # fmt: skip
        return self._result

    @workflow.query(name="status")
    def status(self) -> InboxResult | None:
        return self._result
