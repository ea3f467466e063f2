"""`supplybridge report kpis [--since ISO] [--until ISO] [--json] [--html FILE]` (mounted by
starter/cli.py): the operations KPIs of a window (the last 7 days by default), from the store the
command reads (the running stack's, as `events` does, or `--state-dir`) and from Temporal
visibility (`--address`). Every number is defined in domain/kpis.py.

Text by default, one JSON object with `--json` (`report`: what `GET /v1/reports/kpis` answers),
and with `--html FILE` the self-contained page with charts (starter/report_html.py). When
Temporal cannot be reached the report is still made from the store, with a note naming what is
missing; it exits 0. A window that is not a window (since not before until, longer than a year,
a time that is not ISO 8601) exits 2 naming the option.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from domain.kpi_models import Durations, KpiReport, KpiWindow, human_duration, human_rate
from runtime.settings import Settings
from runtime.stack_record import StoreSource
from runtime.temporal_client import TemporalUnavailable, connect
from starter.cli_common import JsonOpt, command_group, run_async, settings_from
from starter.cli_governance import StoreDirOpt, store_fields
from starter.cli_intake import with_store
from starter.operations.kpis import Visibility, asked_window, kpi_report
from starter.output import ExitCode, print_error, print_json, print_line
from store import Store

report_app = command_group("Operations reports: the KPIs of a window, as text, JSON or an HTML page with charts.")


def iso_instant(value: str | datetime) -> datetime:
    """An ISO 8601 date (`2026-11-24`, midnight UTC) or date-time; without an offset it is UTC."""
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 date or date-time, e.g. 2026-11-24T09:00Z") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@report_app.command("kpis")
def report_kpis(
    ctx: typer.Context,
    since: Annotated[datetime | None, typer.Option(
        "--since", metavar="ISO", parser=iso_instant,
        help="Start of the window (UTC unless an offset is given) [7 days before --until].")] = None,
    until: Annotated[datetime | None, typer.Option(
        "--until", metavar="ISO", parser=iso_instant, help="End of the window, not included [now].")] = None,
    html: Annotated[Path | None, typer.Option(
        "--html", metavar="FILE", help="Also write the self-contained HTML page with charts here.")] = None,
    state_dir: StoreDirOpt = None,
    as_json: JsonOpt = False,
) -> int:  # fmt: skip
    """The operations KPIs of a window: cycle times, latencies, match rate, exceptions, SLA
    breaches, duplicates prevented, sync accuracy, dead letters and failed runs."""
    try:
        window = asked_window(since, until)
    except ValueError as refused:
        reason = refused.errors()[0]["msg"].removeprefix("Value error, ") if isinstance(refused, ValidationError) \
            else str(refused)  # fmt: skip
        field = "--until" if until is not None and since is None else "--since"
        return print_error(f"invalid window: {reason}", as_json, code=ExitCode.BAD_INPUT,
                           errors=[{"field": field, "reason": reason}])  # fmt: skip
    settings = settings_from(ctx, state_dir=state_dir)

    def work(store: Store, source: StoreSource) -> int:
        async def main() -> int:
            report = await _report(store, window, settings)
            if html is not None:
                from starter.report_html import render_kpi_report  # matplotlib: only when a page is asked for

                html.write_text(render_kpi_report(report), encoding="utf-8")
            if as_json:
                print_json({"ok": True, **store_fields(source), "html": str(html) if html else None,
                            "report": report.model_dump(mode="json")})  # fmt: skip
            else:
                print_summary(report)
                if html is not None:
                    print_line(f"wrote {html}")
            return ExitCode.OK

        return run_async(main, as_json)

    return with_store(ctx, state_dir, as_json, work)


async def _report(store: Store, window: KpiWindow, settings: Settings) -> KpiReport:
    """The report; when Temporal cannot be reached, from the store alone, with the reason as a note."""
    visibility: Visibility | None = None
    unreachable = None
    try:
        visibility = await connect(settings)
    except TemporalUnavailable as error:
        unreachable = str(error)
    report = await kpi_report(store, visibility, window)
    if unreachable:
        report.notes.insert(0, unreachable)
    return report


def print_summary(report: KpiReport) -> None:
    w = report.window
    print_line(f"KPIs from {_at(w.since)} to {_at(w.until)} UTC")
    onboarding = report.onboarding_cycle_time
    outcomes = ", ".join(f"{name} {onboarding[name].count}" for name in ("onboarded", "linked", "rejected"))
    match = report.first_pass_match
    teams = "; ".join(f"{team} {_durations(d)} ({d.count} resolved)"
                      for team, d in report.exception_resolution_by_team.items())  # fmt: skip
    still_open = sum(g.still_open for g in report.exception_resolution)
    dup, sync, dead, failed = (report.duplicate_suppliers_prevented, report.sync_accuracy, report.dead_letters_open,
                               report.failed_runs)  # fmt: skip
    breaches = report.sla_breaches
    every, ack, cycle = onboarding["all"], report.po_acknowledgement_latency, report.po_cycle_time
    rows = [
        ("onboarding cycle time", f"{_durations(every)} ({every.count} ended: {outcomes})"),
        ("PO acknowledgement", f"{_durations(ack)} ({ack.count} acknowledged)"),
        ("PO cycle to closed", f"{_durations(cycle)} ({cycle.count} closed)"),
        ("first-pass match", f"{human_rate(match.rate)} ({match.first_pass} of {match.decided} invoices)"),
        ("exception resolution", f"{teams or 'none resolved'}; {still_open} raised and still open"),
        ("SLA breaches", f"{report.sla_breaches_total}" + "".join(f", {b.team} {b.count}" for b in breaches)),
        ("duplicates prevented", f"{dup.total} ({dup.linked} linked, {dup.rejected_in_review} rejected in review)"),
        ("sync accuracy", f"{human_rate(sync.accuracy)} ({sync.in_sync} of {sync.responsible} records, "
                          f"{sync.runs} syncs)"),
        ("dead letters open", f"{dead.total} ({dead.intake_open} intake, {dead.deliveries_dead} event deliveries)"),
        ("failed runs", "unavailable" if failed.total is None else f"{failed.total}"
                        + "".join(f", {t} {n}" for t, n in failed.by_type.items())),
    ]  # fmt: skip
    for label, value in rows:
        print_line(f"  {label:22} {value}")
    for note in report.notes:
        print_line(f"note: {note}", stderr=True)


def _durations(found: Durations) -> str:
    return f"p50 {human_duration(found.p50_seconds)}, p90 {human_duration(found.p90_seconds)}"


def _at(moment: datetime | date) -> str:
    return f"{moment:%Y-%m-%d %H:%M}"
