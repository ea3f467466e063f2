"""`supplybridge dead-letters list|show|replay|discard` (mounted by starter/cli.py): the records of
files that could not become a workflow call, in the store the command reads (as `events` does).

Replaying runs the record through the intake pipeline again (also reaching Temporal), once its
cause is fixed; discarding closes it with a reason. Only an open letter can be replayed or
discarded (exit 2 otherwise, as for an unknown id); both are audited with the person acting.
"""

from __future__ import annotations

from typing import Annotated

import typer

from domain.intake import DeadLetterStatus, IntakeDeadLetter, ReplayResult
from runtime.stack_record import StoreSource
from runtime.temporal_client import connect
from starter.cli_common import (
    USER,
    WAIT_SECONDS,
    ByOpt,
    JsonOpt,
    TimeoutOpt,
    choice_metavar,
    choice_parser,
    command_group,
    run_async,
    settings_from,
    short_reason,
)
from starter.cli_governance import StoreDirOpt, store_fields
from starter.cli_intake import audit, with_store
from starter.operations import intake as intake_operations
from starter.output import ExitCode, print_error, print_field, print_json, print_line
from store import Store

dead_letters_app = command_group("Records of files that could not become a workflow call: list, show, replay, discard.")
LetterIdArg = Annotated[int, typer.Argument(metavar="ID", help="The dead letter's number (from `dead-letters list`).")]
StatusOpt = Annotated[
    DeadLetterStatus | None,
    typer.Option("--status", metavar=choice_metavar(DeadLetterStatus), parser=choice_parser(DeadLetterStatus),
                 help="Only the dead letters with this status."),
]  # fmt: skip


@dead_letters_app.command("list")
def dead_letters_list(
    ctx: typer.Context,
    status: StatusOpt = None,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most this many.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first.")] = 0,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Dead letters, oldest first: the record's kind, key, position in its file and why."""

    def work(store: Store, source: StoreSource) -> int:
        found = store.intake.list_dead_letters(status, limit, offset)
        if as_json:
            print_json({"ok": True, **store_fields(source), "limit": limit, "offset": offset,
                        "dead_letters": [d.model_dump(mode="json") for d in found]})  # fmt: skip
        for d in [] if as_json else found:
            print_line(f"{d.id:6} {d.status.value:9} {d.kind:20} {d.key or '-':20} {d.file_name}: {d.position}")
            print_line(f"       {d.reason}")
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


@dead_letters_app.command("show")
def dead_letters_show(
    ctx: typer.Context, letter_id: LetterIdArg, state_dir: StoreDirOpt = None, as_json: JsonOpt = False
) -> int:
    """One dead letter, with its original text."""

    def work(store: Store, source: StoreSource) -> int:
        found = store.intake.get_dead_letter(letter_id)
        if found is None:
            return print_error(f"no dead letter {letter_id} in that store", as_json, code=ExitCode.BAD_INPUT)
        show_dead_letter(found, as_json, source)
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


@dead_letters_app.command("replay")
def dead_letters_replay(
    ctx: typer.Context,
    letter_id: LetterIdArg,
    by: ByOpt = USER,
    timeout: TimeoutOpt = WAIT_SECONDS,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Run an open dead letter's record through the pipeline again, once its cause is fixed (a
    partner added, a PO created). A replayed record is never processed twice."""
    settings = settings_from(ctx, state_dir=state_dir)

    def work(store: Store, source: StoreSource) -> int:
        refused = open_letter_or_error(store, letter_id, as_json)
        if refused is not None:
            return refused

        async def main() -> int:
            client = await connect(settings)
            record = ("intake_dead_letter", str(letter_id))
            try:
                done = await intake_operations.replay_dead_letter(
                    client, settings, store.intake, letter_id, by, wait=timeout
                )
            except TimeoutError as running:  # started, and still running
                audit(store, by, "intake.dead_letter_replayed", record, "running")
                return print_error(str(running), as_json, code=ExitCode.PLATFORM_ERROR)
            except (LookupError, ValueError) as error:  # gone, or replayed or resolved meanwhile
                return print_error(str(error), as_json, code=ExitCode.BAD_INPUT)
            outcome = "replayed" if done.replayed else "failed_again"
            audit(store, by, "intake.dead_letter_replayed", record, outcome, record_outcome=done.record.outcome.value)
            return report_replay(store.intake.get_dead_letter(letter_id), done, as_json, source)

        return run_async(main, as_json)

    return with_store(ctx, state_dir, as_json, work)


@dead_letters_app.command("discard")
def dead_letters_discard(
    ctx: typer.Context,
    letter_id: LetterIdArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is not run again (kept with it).")],
    by: ByOpt = USER,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Close an open dead letter without running it."""
    refused = short_reason(reason, as_json)
    if refused is not None:
        return refused

    def work(store: Store, source: StoreSource) -> int:
        refused = open_letter_or_error(store, letter_id, as_json)
        if refused is not None:
            return refused
        try:
            letter = store.intake.resolve_dead_letter(letter_id, DeadLetterStatus.DISCARDED, by, reason.strip())
        except ValueError as error:  # resolved by someone else meanwhile
            return print_error(str(error), as_json, code=ExitCode.BAD_INPUT)
        audit(store, by, "intake.dead_letter_discarded", ("intake_dead_letter", str(letter_id)), "discarded",
              reason=letter.resolution)  # fmt: skip
        show_dead_letter(letter, as_json, source)
        return ExitCode.OK

    return with_store(ctx, state_dir, as_json, work)


def open_letter_or_error(store: Store, letter_id: int, as_json: bool) -> ExitCode | None:
    found = store.intake.get_dead_letter(letter_id)
    if found is None:
        return print_error(f"no dead letter {letter_id} in that store", as_json, code=ExitCode.BAD_INPUT)
    if found.status is not DeadLetterStatus.OPEN:
        return print_error(f"dead letter {letter_id} was {found.status.value} by {found.resolved_by}: only an open "
                           "one can be replayed or discarded", as_json, code=ExitCode.BAD_INPUT)  # fmt: skip
    return None


def report_replay(letter: IntakeDeadLetter | None, done: ReplayResult, as_json: bool, source: StoreSource) -> int:
    """Exit 0 when the record went through, 3 when it failed again (in a dead letter of its own)."""
    code = ExitCode.OK if done.replayed else ExitCode.REJECTED
    again = done.record.dead_letter_id
    error = None if done.replayed else f"failed again: {done.record.reason} (dead letter {again})"
    if as_json:
        print_json({"ok": done.replayed, **({"error": error} if error else {}), **store_fields(source),
                    "replayed": done.replayed, "record": done.record.model_dump(mode="json"),
                    "dead_letter": letter.model_dump(mode="json") if letter else None})  # fmt: skip
        return code
    target = done.record.workflow_id or done.record.reason or ""
    print_field("replayed" if done.replayed else "failed again", f"{done.record.outcome.value} {target}".strip())
    if letter is not None:
        print_field("dead letter", f"{letter.id} {letter.status.value}: {letter.resolution or ''}")
    return code


def show_dead_letter(letter: IntakeDeadLetter, as_json: bool, source: StoreSource) -> None:
    if as_json:
        print_json({"ok": True, **store_fields(source), "dead_letter": letter.model_dump(mode="json")})
        return
    shown = letter.model_dump(mode="json", exclude={"raw", "details"}, exclude_none=True)
    for label, value in shown.items():
        print_field(label.replace("_", " "), str(value))
    print_line("original text:")
    print_line(letter.raw)
