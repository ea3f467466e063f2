"""`supplybridge runs list|retry` (mounted by starter/cli.py): the runs an operator must look at
(failed, stuck on a system, waiting on people past their SLA) and retrying failed runs, one or
all a visibility query matches, each failure at most once (starter/operations/triage.py and
triage_retry.py decide how). `retry` records each retry in the store the command reads (as
`dead-letters` does) and audits it with the person acting (`--by`, the login name by default).

Exit codes: 0 listed, retried (or, `--dry-run`, would be); 1 Temporal unreachable, or it refused a
retry (`--query`: any of them); 2 bad usage (not exactly one of --failed, --stuck,
--waiting-on-people; both or neither of ID and --query; a query Temporal cannot use; no such
run) or a run that is not retried: not failed, superseded, or already retried ("already retried
as run X").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from runtime.stack_record import StoreSource
from runtime.temporal_client import connect
from starter import operations as ops
from starter.cli_common import USER, ByOpt, JsonOpt, command_group, run_async, settings_from
from starter.cli_governance import StoreDirOpt, store_fields
from starter.cli_intake import with_store
from starter.operations import triage
from starter.operations.triage_retry import RetryFailed, RetryLedger, RetryOutcome, retry_matching, retry_run
from starter.output import ExitCode, console, print_error, print_json, print_line
from store import Store

runs_app = command_group("Triage: failed, stuck and waiting runs; retry failed runs, each failure once.")


def _moment(value: str | datetime) -> datetime:
    """An ISO 8601 date or date-time (UTC when it has no zone)."""
    if isinstance(value, datetime):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 date-time, e.g. 2026-11-24T08:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


TypeOpt = Annotated[str | None, typer.Option("--type", metavar="TYPE", help="Only runs of this workflow type.")]
SinceOpt = Annotated[
    datetime | None,
    typer.Option("--since", metavar="ISO", parser=_moment,
                 help="Failed at or after (with --failed), else started at or after; UTC without a zone."),
]  # fmt: skip
LimitOpt = Annotated[int, typer.Option(min=1, max=triage.MAX_LIMIT, help="At most this many.")]


@runs_app.command("list")
def runs_list(
    ctx: typer.Context,
    failed: Annotated[
        bool, typer.Option("--failed", help="Runs that failed or timed out (latest of their id).")
    ] = False,
    stuck: Annotated[bool, typer.Option("--stuck", help="Runs whose activity keeps retrying (a system down).")] = False,
    waiting: Annotated[
        bool, typer.Option("--waiting-on-people", help="Runs whose open decision is past its SLA.")
    ] = False,
    workflow_type: TypeOpt = None,
    since: SinceOpt = None,
    limit: LimitOpt = triage.LIST_LIMIT,
    as_json: JsonOpt = False,
) -> int:
    """Runs an operator must look at: failed, stuck on a system (one line naming the system and
    the error), or waiting on people past their SLA."""
    chosen = [name for name, on in (("failed", failed), ("stuck", stuck), ("waiting", waiting)) if on]
    if len(chosen) != 1:
        flags = "--failed|--stuck|--waiting-on-people"
        return print_error("say which runs: exactly one of --failed, --stuck, --waiting-on-people", as_json,
                           code=ExitCode.BAD_INPUT, errors=[{"field": flags, "reason": "exactly one"}])  # fmt: skip
    settings = settings_from(ctx)

    async def main() -> int:
        client = await connect(settings)
        filters: dict[str, Any] = {"workflow_type": workflow_type, "since": since, "limit": limit}
        try:
            if failed:
                found: list[Any] = await triage.list_failed(client, settings, **filters)
            elif stuck:
                after = timedelta(minutes=settings.stuck_after_minutes)
                found = await triage.list_stuck(client, settings, stuck_after=after, **filters)
            else:
                found = await triage.list_waiting(client, settings, **filters)
        except triage.TriageRefused as refused:
            return print_error(str(refused), as_json, code=ExitCode.BAD_INPUT)
        if as_json:
            print_json({"ok": True, "state": chosen[0], "runs": [run.model_dump(mode="json") for run in found]})
            return ExitCode.OK
        print_line(f"{len(found)} {chosen[0]} run(s) on Temporal {settings.temporal_address}")
        for run in found:
            _print_run(run)
        return ExitCode.OK

    return run_async(main, as_json)


def _print_run(run: triage.FailedRun | triage.StuckRun | triage.WaitingRun) -> None:
    if isinstance(run, triage.FailedRun):
        at = f" {run.failed_at:%Y-%m-%d %H:%M:%S} UTC" if run.failed_at else ""
        print_line(f"{run.workflow_id} {run.workflow_type} {run.status}{at}")
        print_line(f"    {run.system + ': ' if run.system else ''}{run.error}")
    else:
        print_line(run.line)
    print_line(f"    {run.ui_url}")


@runs_app.command("retry")
def runs_retry(
    ctx: typer.Context,
    run: Annotated[
        str | None,
        typer.Argument(metavar="ID", help="The failed run: a workflow id, PO number, invoice key or vendor id."),
    ] = None,
    query: Annotated[
        str | None,
        typer.Option(
            "--query",
            help="Retry every failed run this visibility query matches, e.g. "
            "\"WorkflowType='PurchaseOrder' AND ExecutionStatus='Failed'\".",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would be retried and how; change nothing.")
    ] = False,
    limit: LimitOpt = triage.LIST_LIMIT,
    by: ByOpt = USER,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Retry a failed run (reset to the workflow task before the failed step, or run again from
    its input), or every failed run a query matches. A failure is never retried twice."""
    if (run is None) == (query is None):
        return print_error("name one failed run (ID) or give --query, not both", as_json, code=ExitCode.BAD_INPUT,
                           errors=[{"field": "ID|--query", "reason": "exactly one"}])  # fmt: skip
    settings = settings_from(ctx, state_dir=state_dir)

    def work(store: Store, source: StoreSource) -> int:
        ledger = RetryLedger(store)

        async def main() -> int:
            client = await connect(settings)
            if query is not None:
                try:
                    found = await retry_matching(client, settings, ledger, query, by=by, dry_run=dry_run, limit=limit)
                except triage.TriageRefused as refused:
                    return print_error(str(refused), as_json, code=ExitCode.BAD_INPUT,
                                       errors=[{"field": "--query", "reason": str(refused)}])  # fmt: skip
                return _report_bulk(found, query, dry_run, limit, as_json, source)
            workflow_id = await ops.resolve_run_id(client, run or "")
            try:
                done = await retry_run(client, settings, ledger, workflow_id, by=by, dry_run=dry_run)
            except RetryFailed as failed:
                return _report_one(failed.outcome, ExitCode.PLATFORM_ERROR, as_json, source)
            return _report_one(done, ExitCode.BAD_INPUT if done.outcome == "skipped" else ExitCode.OK, as_json, source)

        return run_async(main, as_json)

    return with_store(ctx, state_dir, as_json, work)


def _report_one(outcome: RetryOutcome, code: ExitCode, as_json: bool, source: StoreSource) -> int:
    if as_json:
        error = {} if code == ExitCode.OK else {"error": outcome.detail}
        print_json({"ok": code == ExitCode.OK, **error, **store_fields(source), **outcome.model_dump(mode="json")})
        return code
    if code != ExitCode.OK:
        return print_error(f"{outcome.workflow_id}: {outcome.detail}", as_json, code=code)
    _print_outcome(outcome)
    return code


def _report_bulk(
    found: list[RetryOutcome], query: str, dry_run: bool, limit: int, as_json: bool, source: StoreSource
) -> int:
    """Exit 1 when any retry failed; runs skipped (already retried, superseded) are not failures.
    At most `limit` runs are retried: a full batch says to run it again for the rest."""
    counts = {kind: sum(o.outcome == kind for o in found) for kind in ("retried", "would_retry", "skipped", "failed")}
    code = ExitCode.PLATFORM_ERROR if counts["failed"] else ExitCode.OK
    if as_json:
        error = {"error": f"{counts['failed']} run(s) not retried"} if counts["failed"] else {}
        print_json({"ok": code == ExitCode.OK, **error, **store_fields(source), "query": query, "dry_run": dry_run,
                    "limit": limit, **counts, "runs": [o.model_dump(mode="json") for o in found]})  # fmt: skip
        return code
    for outcome in found:
        _print_outcome(outcome)
    summary = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in counts.items() if n) or "no failed run matched"
    taken = counts["retried"] + counts["would_retry"] + counts["failed"]
    more = f" (--limit {limit} reached: run it again for the rest)" if taken >= limit else ""
    console.print(f"{'dry run: ' if dry_run else ''}{summary}{more}", soft_wrap=True, markup=False, highlight=False)
    return code


def _print_outcome(outcome: RetryOutcome) -> None:
    print_line(f"{outcome.outcome:12} {outcome.workflow_id} (run {outcome.failed_run_id}): {outcome.detail}")
    if outcome.failure:
        print_line(f"{'':12} it had failed with {outcome.system + ': ' if outcome.system else ''}{outcome.failure}")
    if outcome.ui_url:
        print_line(f"{'':12} {outcome.ui_url}")
