"""`supplybridge schedules list|describe|trigger|pause|unpause|backfill` (the platform's Temporal
Schedules, starter/operations/schedules.py) and `supplybridge sync run|report` (one master-data
sync now, and the drift report of a sync), mounted by starter/cli.py."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from temporalio.client import Client, ScheduleOverlapPolicy
from temporalio.service import RPCError, RPCStatusCode

from domain.master_data.policy import Entity
from domain.master_data.summary import SyncSummary
from domain.master_data.sync import MasterDataSyncInput, sync_workflow_id
from runtime.settings import Settings
from runtime.stack_record import NoStoreFound, masked_url, store_to_read
from runtime.temporal_client import connect
from starter.cli_common import (
    JsonOpt,
    TimeoutOpt,
    WaitOpt,
    choice_metavar,
    choice_parser,
    command_group,
    run_async,
    settings_from,
)
from starter.operations.schedules import backfill, platform_schedules, schedule_view
from starter.output import ExitCode, console, err_console, print_error, print_json, print_line
from starter.sync_report import report_csv, report_html, report_json
from workflows.master_data_sync import MasterDataSyncWorkflow

schedules_app = command_group("The platform's Temporal Schedules (the scheduled master-data syncs).")
sync_app = command_group("Master-data sync: run one now, read a sync's drift report.")

ScheduleArg = Annotated[str, typer.Argument(metavar="SCHEDULE", help="e.g. master-data-sync-suppliers")]
EntityArg = Annotated[
    Entity,
    typer.Argument(metavar=choice_metavar(Entity), parser=choice_parser(Entity), help="What to synchronise."),
]


class ReportFormat(StrEnum):
    JSON = "json"
    CSV = "csv"
    HTML = "html"


def _schedule_handle(client: Client, schedule_id: str) -> Any:
    return client.get_schedule_handle(schedule_id)


async def _describe(client: Client, schedule_id: str) -> dict[str, Any]:
    try:
        return schedule_view(await _schedule_handle(client, schedule_id).describe())
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise LookupError(f"no schedule {schedule_id!r}: `supplybridge schedules list` shows them") from None
        raise


def _print_schedule(view: dict[str, Any]) -> None:
    state = "paused" if view["paused"] else "active"
    print_line(f"{view['schedule_id']}  every {', '.join(view['every'])}  {state}  runs {view['runs']}")
    for when in view["next_runs"][:1]:
        print_line(f"  next run at {when}")
    for run in view["recent_runs"][-1:]:
        print_line(f"  last run {run['workflow_id']}")


def _on_schedules(ctx: typer.Context, as_json: bool, work: Any) -> int:
    settings = settings_from(ctx)

    async def main() -> int:
        client = await connect(settings)
        try:
            return int(await work(client, settings))
        except LookupError as missing:
            return print_error(str(missing), as_json, code=ExitCode.BAD_INPUT)

    return run_async(main, as_json)


@schedules_app.command("list")
def list_schedules(ctx: typer.Context, as_json: JsonOpt = False) -> int:
    """The platform's schedules: interval, paused or not, next and last run."""

    async def work(client: Client, settings: Settings) -> int:
        views = []
        for wanted in platform_schedules(settings):
            try:
                views.append(await _describe(client, wanted.schedule_id))
            except LookupError:
                views.append({"schedule_id": wanted.schedule_id, "missing": True})
        if as_json:
            print_json({"ok": True, "schedules": views})
        for view in [] if as_json else views:
            if view.get("missing"):
                print_line(f"{view['schedule_id']}  not created yet (`supplybridge up` or a worker creates it)")
            else:
                _print_schedule(view)
        return ExitCode.OK

    return _on_schedules(ctx, as_json, work)


@schedules_app.command("describe")
def describe_schedule(ctx: typer.Context, schedule_id: ScheduleArg, as_json: JsonOpt = False) -> int:
    """One schedule: spec, policy, state, next runs and recent runs."""

    async def work(client: Client, _settings: Settings) -> int:
        view = await _describe(client, schedule_id)
        if as_json:
            print_json({"ok": True, **view})
        else:
            for name, value in view.items():
                print_line(f"{name}: {value}")
        return ExitCode.OK

    return _on_schedules(ctx, as_json, work)


@schedules_app.command("trigger")
def trigger_schedule(ctx: typer.Context, schedule_id: ScheduleArg, as_json: JsonOpt = False) -> int:
    """Run the schedule's action now (after the current run, if one is running)."""

    async def work(client: Client, _settings: Settings) -> int:
        await _describe(client, schedule_id)
        await _schedule_handle(client, schedule_id).trigger(overlap=ScheduleOverlapPolicy.BUFFER_ONE)
        message = f"{schedule_id} triggered: its run starts now, or right after the one still running"
        print_json({"ok": True, "schedule_id": schedule_id, "triggered": True}) if as_json else print_line(message)
        return ExitCode.OK

    return _on_schedules(ctx, as_json, work)


def _pause_or_unpause(ctx: typer.Context, schedule_id: str, reason: str, as_json: bool, *, pause: bool) -> int:
    async def work(client: Client, _settings: Settings) -> int:
        await _describe(client, schedule_id)
        handle = _schedule_handle(client, schedule_id)
        await (handle.pause(note=reason) if pause else handle.unpause(note=reason))
        state = "paused" if pause else "active"
        print_json({"ok": True, "schedule_id": schedule_id, "paused": pause}) if as_json else print_line(
            f"{schedule_id} is {state} ({reason})"
        )
        return ExitCode.OK

    return _on_schedules(ctx, as_json, work)


ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (kept as the schedule's note).")]


@schedules_app.command("pause")
def pause_schedule(ctx: typer.Context, schedule_id: ScheduleArg, reason: ReasonOpt = "paused by an operator",
                   as_json: JsonOpt = False) -> int:  # fmt: skip
    """Stop the schedule's ticks until it is unpaused."""
    return _pause_or_unpause(ctx, schedule_id, reason, as_json, pause=True)


@schedules_app.command("unpause")
def unpause_schedule(ctx: typer.Context, schedule_id: ScheduleArg, reason: ReasonOpt = "unpaused by an operator",
                     as_json: JsonOpt = False) -> int:  # fmt: skip
    """Let the schedule tick again."""
    return _pause_or_unpause(ctx, schedule_id, reason, as_json, pause=False)


def _when(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO date-time (e.g. 2026-11-24T08:00:00+00:00)") from None
    if when.tzinfo is None:
        raise typer.BadParameter(f"{value!r} has no time zone: add +00:00 or Z")
    return when


@schedules_app.command("backfill")
def backfill_schedule(
    ctx: typer.Context,
    schedule_id: ScheduleArg,
    start: Annotated[datetime, typer.Option("--start", parser=_when, metavar="ISO-TIME", help="First tick to run.")],
    end: Annotated[datetime, typer.Option("--end", parser=_when, metavar="ISO-TIME", help="Last tick to run.")],
    as_json: JsonOpt = False,
) -> int:
    """Run every tick the schedule would have run between --start and --end."""
    if end <= start:
        return print_error("--end must be after --start", as_json, code=ExitCode.BAD_INPUT)

    async def work(client: Client, _settings: Settings) -> int:
        await _describe(client, schedule_id)
        await backfill(client, schedule_id, start, end)
        message = f"{schedule_id}: the ticks from {start.isoformat()} to {end.isoformat()} are run"
        print_json({"ok": True, "schedule_id": schedule_id, "backfilled": [start, end]}) if as_json else print_line(
            message
        )
        return ExitCode.OK

    return _on_schedules(ctx, as_json, work)


@sync_app.command("run")
def sync_run(
    ctx: typer.Context,
    entity: EntityArg,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what it would do; change nothing.")] = False,
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 600.0,
    as_json: JsonOpt = False,
) -> int:
    """Run one master-data sync now and print its summary."""
    settings = settings_from(ctx)

    async def main() -> int:
        client = await connect(settings)
        workflow_id = sync_workflow_id(entity, None, f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}")
        handle = await client.start_workflow(
            MasterDataSyncWorkflow.run,
            MasterDataSyncInput(entity=entity, dry_run=dry_run),
            id=workflow_id,
            task_queue=settings.task_queue,
            static_summary=f"Master-data sync of {entity.value}{' (dry run)' if dry_run else ''}, started by hand",
        )
        url = settings.workflow_url(workflow_id, handle.result_run_id)
        if not wait:
            if as_json:
                print_json({"ok": True, "workflow_id": workflow_id, "status": "running", "ui_url": url})
            else:
                print_line(f"started {workflow_id}")
                print_line(url)
            return ExitCode.OK
        import asyncio

        summary: SyncSummary = await asyncio.wait_for(handle.result(), timeout=timeout)
        _print_summary(workflow_id, summary, url, as_json)
        return ExitCode.OK

    return run_async(main, as_json)


def _print_summary(workflow_id: str, summary: SyncSummary, url: str, as_json: bool) -> None:
    if as_json:
        data = summary.model_dump(mode="json")
        print_json({"ok": True, "workflow_id": workflow_id, "status": "completed", "summary": data, "ui_url": url})
        return
    print_line(f"{workflow_id}: {summary.entity}{' (dry run)' if summary.dry_run else ''}")
    print_line(f"  read: {', '.join(f'{s} {n}' for s, n in summary.read.items())}")
    print_line(f"  matched {summary.matched}, in sync after the run {summary.in_sync}, "
               f"accuracy {summary.accuracy:.1%}")  # fmt: skip
    for system, fields in summary.drifted.items():
        print_line(f"  drifted in {system}: {', '.join(f'{f} {n}' for f, n in fields.items())}")
    print_line(f"  corrected {summary.corrected}, created {summary.created}, conflicts {summary.conflicts} "
               f"(tasks for vendor-master-data), kept {summary.kept}")  # fmt: skip
    for rejected in summary.rejected:
        print_line(f"  rejected: {rejected}")
    for failed in summary.failed:
        print_line(f"  refused by a system: {failed}")
    print_line(f"  took {summary.duration_seconds:.1f} s; drift report: supplybridge sync report {workflow_id}")
    print_line(url)


@sync_app.command("report")
def sync_report(
    ctx: typer.Context,
    sync_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The sync's workflow id.")],
    format_: Annotated[
        ReportFormat,
        typer.Option("--format", metavar=choice_metavar(ReportFormat), parser=choice_parser(ReportFormat)),
    ] = ReportFormat.JSON,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")] = None,
    state_dir: Annotated[Path | None, typer.Option("--state-dir", help="Read this state dir's store.")] = None,
) -> int:
    """Write a sync's drift report: one row per record, system and field that differed."""
    from store import Store

    settings = settings_from(ctx, state_dir=state_dir)
    try:
        source = store_to_read(settings)
    except NoStoreFound as error:
        return print_error(str(error), False, code=ExitCode.PLATFORM_ERROR)
    err_console.print(f"reading {source.description}: store {masked_url(source.url)}", soft_wrap=True, markup=False)
    store = Store(source.url)
    try:
        run = store.syncs.get(sync_id)
        rows = store.syncs.drift_rows(sync_id) if run else []
    finally:
        store.close()
    if run is None:
        return print_error(f"no sync {sync_id!r} in that store", False, code=ExitCode.BAD_INPUT)
    if format_ is ReportFormat.CSV:
        text = report_csv(rows)
    elif format_ is ReportFormat.HTML:
        text = report_html(sync_id, run.summary, rows)
    else:
        import json

        text = json.dumps({"ok": True, **report_json(sync_id, run.summary, rows)}, default=str) + "\n"
    if output is None:
        console.file.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {output}", markup=False)
    return ExitCode.OK
