"""The KPI report as one self-contained HTML page: a headline table, then each chart with its
numbers in a table beside it (trends per day, distributions, breakdowns by team), then the
definitions. Pure rendering of a `KpiReport` (domain/kpi_models.py).

Decisions:
- Charts are drawn by matplotlib (Agg, the object API: no pyplot state, safe in a worker thread)
  as SVG inlined in the page, their text in the generic `sans-serif` family (after DejaVu Sans,
  which matplotlib measured it with): no script, no web font, no image and no URL to fetch, so
  the page renders offline, from a file or a mail attachment. A Content-Security-Policy meta
  tag (`default-src 'none'`) makes the browser refuse anything else. Text as paths would draw
  the same letters everywhere but cost 40 % more time and twice the size; a margin fixed per
  chart kind instead of matplotlib's constrained layout halves the time again (one draw per
  chart, about 0.1 s).
- Everything that comes from data (team names, workflow ids, notes) is HTML-escaped in the
  tables; in the charts matplotlib escapes it, math text is off (`$` is a dollar sign), and
  the XML prologue, metadata and comments are removed from each SVG.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from domain.kpi_durations import durations
from domain.kpi_models import DURATION_UNITS, Durations, HistogramBin, KpiReport
from domain.kpi_models import human_duration as _d
from domain.kpi_models import human_rate as _pct

COLORS = ("#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e", "#57606a")
RC: dict[Any, Any] = {"svg.fonttype": "none", "text.parse_math": False, "font.size": 9, "axes.spines.top": False,
      "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3}  # fmt: skip
_STRIP = re.compile(
    r"<\?xml[^>]*>|<!DOCTYPE[^>]*>|<metadata>.*?</metadata>|<!--.*?-->|\s?xmlns(:\w+)?=\"[^\"]*\"", re.S
)
e = html.escape


def render_kpi_report(report: KpiReport) -> str:
    window = f"{report.window.since:%Y-%m-%d %H:%M} to {report.window.until:%Y-%m-%d %H:%M} UTC"
    notes = "".join(f'<p class="note">{e(note)}</p>' for note in report.notes)
    sections = [_headline(report), *_trends(report), *_distributions(report), *_breakdowns(report), _definitions()]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>SupplyBridge KPIs, {e(window)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; max-width: 80rem; }}
table {{ border-collapse: collapse; margin: .5rem 0; }} th, td {{ border: 1px solid #d0d7de; padding: .25rem .5rem;
text-align: left; vertical-align: top; font-size: .85rem; }} th {{ background: #f6f8fa; }} td.n {{ text-align: right; }}
.pair {{ display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; margin-bottom: 1.5rem; }}
figure {{ margin: 0; }} figure svg {{ max-width: 36rem; height: auto; }} .note {{ color: #9a6700; }}
dt {{ font-weight: 600; margin-top: .5rem; }}
</style></head><body>
<h1>Operations KPIs</h1>
<p>Window {e(window)} (events by when they happened, runs by when they closed); generated
{report.generated_at:%Y-%m-%d %H:%M:%S} UTC.</p>{notes}
{"".join(sections)}
</body></html>
"""


# --- sections -------------------------------------------------------------------------------------


def _headline(r: KpiReport) -> str:
    onboarding, resolution = r.onboarding_cycle_time["all"], _pooled(list(r.exception_resolution_by_team.values()))
    failed = "unavailable" if r.failed_runs.total is None else str(r.failed_runs.total)
    rows = [
        ("Onboarding cycle time p50 / p90", f"{_d(onboarding.p50_seconds)} / {_d(onboarding.p90_seconds)}",
         f"{onboarding.count} onboardings ended"),
        ("PO acknowledgement latency p50 / p90", _p50_p90(r.po_acknowledgement_latency),
         f"{r.po_acknowledgement_latency.count} acknowledged"),
        ("PO cycle time to closed p50 / p90", _p50_p90(r.po_cycle_time), f"{r.po_cycle_time.count} closed"),
        ("First-pass three-way match rate", _pct(r.first_pass_match.rate),
         f"{r.first_pass_match.first_pass} of {r.first_pass_match.decided} invoices"),
        ("Exception resolution time p50 / p90", _p50_p90(resolution),
         f"{resolution.count} resolved, {sum(g.still_open for g in r.exception_resolution)} raised and still open"),
        ("SLA breaches", str(r.sla_breaches_total), ", ".join(f"{b.team} {b.count}" for b in r.sla_breaches)),
        ("Duplicate suppliers prevented", str(r.duplicate_suppliers_prevented.total),
         f"{r.duplicate_suppliers_prevented.linked} linked, "
         f"{r.duplicate_suppliers_prevented.rejected_in_review} rejected in review"),
        ("Master-data sync accuracy", _pct(r.sync_accuracy.accuracy),
         f"{r.sync_accuracy.in_sync} of {r.sync_accuracy.responsible} records in {r.sync_accuracy.runs} syncs"),
        ("Dead letters open", str(r.dead_letters_open.total),
         f"{r.dead_letters_open.intake_open} intake, {r.dead_letters_open.deliveries_dead} event deliveries"),
        ("Failed runs", failed, ", ".join(f"{t} {n}" for t, n in r.failed_runs.by_type.items())),
    ]  # fmt: skip
    return "<h2>Summary</h2>" + _table(("KPI", "value", "of"), rows)


def _trends(r: KpiReport) -> list[str]:
    days = [row.day.isoformat() for row in r.daily]
    series = {
        "onboardings ended": [row.onboardings for row in r.daily],
        "POs released": [row.pos_released for row in r.daily],
        "POs closed": [row.pos_closed for row in r.daily],
        "invoices decided": [row.invoices_decided for row in r.daily],
        "exceptions raised": [row.exceptions_raised for row in r.daily],
        "SLA breaches": [row.sla_breaches for row in r.daily],
        "failed runs": [row.failed_runs or 0 for row in r.daily],
    }
    columns = ("day", "onboardings", "POs released", "POs acknowledged", "POs closed", "invoices decided",
               "first pass", "first-pass rate", "exceptions raised", "exceptions resolved", "SLA breaches",
               "failed runs")  # fmt: skip
    rows = [
        (row.day.isoformat(), row.onboardings, row.pos_released, row.pos_acknowledged, row.pos_closed,
         row.invoices_decided, row.invoices_first_pass, _pct(row.first_pass_rate), row.exceptions_raised,
         row.exceptions_resolved, row.sla_breaches, "-" if row.failed_runs is None else row.failed_runs)
        for row in r.daily
    ]  # fmt: skip
    rates = [100 * (row.first_pass_rate or 0) for row in r.daily]
    rate_rows = [(row.day.isoformat(), row.invoices_decided, row.invoices_first_pass, _pct(row.first_pass_rate))
                 for row in r.daily]  # fmt: skip
    events, first_pass = "Events per day", "First-pass match rate per day"
    return [
        "<h2>Trends per day</h2>",
        _pair(events, _lines(events, days, series, "per day"), _table(columns, rows)),
        _pair(first_pass, _bars(first_pass, days, {"first-pass rate (%)": rates}, "%"),
              _table(("day", "decided", "first pass", "rate"), rate_rows)),
    ]  # fmt: skip


def _distributions(r: KpiReport) -> list[str]:
    shown = {
        "Onboarding cycle time": r.onboarding_cycle_time["all"],
        "PO acknowledgement latency": r.po_acknowledgement_latency,
        "PO cycle time (released to closed)": r.po_cycle_time,
        "Exception resolution time (every team)": _pooled(list(r.exception_resolution_by_team.values())),
    }
    parts = ["<h2>Distributions</h2>"]
    for title, found in shown.items():
        labels = [b.label for b in found.histogram]
        chart = _bars(title, labels, {"count": [b.count for b in found.histogram]}, "count", rotate=True)
        table = _table(("duration", "count"), [(b.label, b.count) for b in found.histogram]) + _stats({"all": found})
        parts.append(_pair(title, chart, table))
    return parts


def _breakdowns(r: KpiReport) -> list[str]:
    outcomes = {k: v for k, v in r.onboarding_cycle_time.items() if k != "all"}
    teams = r.exception_resolution_by_team
    groups = [(g.process, g.team, g.kind, g.resolved.count, _d(g.resolved.p50_seconds), _d(g.resolved.p90_seconds),
               g.still_open) for g in r.exception_resolution]  # fmt: skip
    by_outcome, by_team = "Onboarding cycle time by outcome", "Exception resolution time by team"
    return [
        "<h2>Breakdowns</h2>",
        _pair(by_outcome, _p50_p90_bars(by_outcome, outcomes), _stats(outcomes)),
        _pair(by_team, _p50_p90_bars(by_team, teams), _stats(teams)),
        "<h3>Exceptions by process, team and kind</h3>"
        + _table(("process", "team", "kind", "resolved", "p50", "p90", "still open"), groups),
        _sla_breaches(r),
        *_failed_runs(r),
        _sync_accuracy(r),
    ]


def _sla_breaches(r: KpiReport) -> str:
    teams, counts = [b.team for b in r.sla_breaches], [b.count for b in r.sla_breaches]
    rows = [(b.team, b.count, ", ".join(f"{t} {n}" for t, n in b.by_type.items())) for b in r.sla_breaches]
    title = "SLA breaches by team"
    chart = _bars(title, teams, {"breaches": counts}, "breaches", horizontal=True)
    return _pair(title, chart, _table(("team", "breaches", "by event"), rows))


def _failed_runs(r: KpiReport) -> list[str]:
    failed = r.failed_runs
    if not failed.available:
        return ["<h3>Failed runs</h3><p>Temporal visibility could not be read.</p>"]
    title = "Failed runs by workflow type"
    chart = _bars(title, list(failed.by_type), {"failed": list(failed.by_type.values())}, "failed runs",
                  horizontal=True)  # fmt: skip
    listed = [(run.workflow_id, run.workflow_type, f"{run.close_time:%Y-%m-%d %H:%M:%S}" if run.close_time else "")
              for run in failed.runs]  # fmt: skip
    return [
        _pair(title, chart, _table(("workflow type", "failed"), list(failed.by_type.items()))),
        "<h3>Failed runs (newest first)</h3>" + _table(("workflow id", "type", "closed (UTC)"), listed),
    ]


def _sync_accuracy(r: KpiReport) -> str:
    latest = r.sync_accuracy.latest_by_entity
    title = "Master-data sync accuracy (latest run per entity)"
    chart = _bars(title, list(latest), {"accuracy (%)": [100 * a for a in latest.values()]}, "%")
    table = _table(("entity", "accuracy"), [(k, _pct(v)) for k, v in latest.items()])
    return _pair(title, chart, table)


def _definitions() -> str:
    items = {
        "Onboarding cycle time": "run start (Temporal) to supplier.onboarded or supplier.onboarding_rejected",
        "PO acknowledgement latency": "purchase_order.released to the PO's first purchase_order.acknowledged",
        "PO cycle time": "purchase_order.released to purchase_order.closed",
        "First-pass match rate": "invoices whose first match decision is invoice.approved, of those approved or "
        "raised as an exception",
        "Exception resolution time": "*.exception_raised to *.exception_resolved, by the team first asked",
        "SLA breaches": "escalations and overdue events, by the team the work was handed to",
        "Duplicate suppliers prevented": "onboardings linked (same tax id) plus duplicates rejected in review",
        "Sync accuracy": "records in sync after the syncs / records compared not awaiting a decision",
        "Dead letters open": "intake dead letters open plus event deliveries dead, now",
        "Failed runs": "runs Temporal closed as Failed in the window",
    }
    body = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in items.items())
    return f"<h2>Definitions</h2><p>Percentiles are nearest-rank; durations end in the window.</p><dl>{body}</dl>"


# --- tables ---------------------------------------------------------------------------------------


def _pair(title: str, chart: str, table: str) -> str:
    return f'<h3>{e(title)}</h3><div class="pair"><figure>{chart}</figure><div>{table}</div></div>'


def _table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{v}</td>' if isinstance(v, int | float) else f"<td>{e(str(v))}</td>"
                         for v in row) + "</tr>"
        for row in rows
    )  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body or _empty(len(columns))}</tbody></table>"


def _empty(columns: int) -> str:
    return f'<tr><td colspan="{columns}">none</td></tr>'


def _stats(found: Mapping[str, Durations]) -> str:
    rows = [(name, d.count, _d(d.p50_seconds), _d(d.p90_seconds), _d(d.mean_seconds), _d(d.max_seconds),
             d.unmatched) for name, d in found.items()]  # fmt: skip
    return _table(("", "count", "p50", "p90", "mean", "max", "start not found"), rows)


def _pooled(found: Sequence[Durations]) -> Durations:
    """The histogram of several distributions (same bins); its percentiles cannot be pooled: unset."""
    if len(found) <= 1:
        return found[0] if found else durations([])
    bins = [
        HistogramBin(label=b.label, lower_seconds=b.lower_seconds, upper_seconds=b.upper_seconds,
                     count=sum(d.histogram[i].count for d in found))
        for i, b in enumerate(found[0].histogram)
    ]  # fmt: skip
    return Durations(count=sum(d.count for d in found), histogram=bins)


def _p50_p90(found: Durations) -> str:
    return f"{_d(found.p50_seconds)} / {_d(found.p90_seconds)}"


# --- charts ---------------------------------------------------------------------------------------


def _figure(*, left: float = 0.1, bottom: float = 0.14, right: float = 0.97) -> Figure:
    figure = Figure(figsize=(6.4, 3.4))
    figure.subplots_adjust(left=left, bottom=bottom, right=right, top=0.95)
    return figure


def _bars(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]], unit: str, *, horizontal: bool = False,
    rotate: bool = False,
) -> str:  # fmt: skip
    with matplotlib.rc_context(RC):
        figure = _figure(left=0.36 if horizontal else 0.1, bottom=0.3 if rotate else 0.14,
                         right=0.8 if len(series) > 1 else 0.97)  # fmt: skip
        axes = figure.add_subplot()
        width = 0.8 / max(1, len(series))
        positions = range(len(labels))
        for n, (label, values) in enumerate(series.items()):
            shifted = [p + (n - (len(series) - 1) / 2) * width for p in positions]
            draw = axes.barh if horizontal else axes.bar
            draw(shifted, values, width, label=label, color=COLORS[n % len(COLORS)])
        ticks = axes.set_yticks if horizontal else axes.set_xticks
        ticks(list(positions), list(labels), rotation=0 if horizontal or not rotate else 35,
              ha="center" if horizontal or not rotate else "right")  # fmt: skip
        (axes.set_xlabel if horizontal else axes.set_ylabel)(unit)
        (axes.xaxis if horizontal else axes.yaxis).set_major_locator(
            MaxNLocator(integer=unit not in ("%", "days", "hours", "minutes", "seconds"))
        )
        if len(series) > 1:
            axes.legend(frameon=False, loc="upper left", bbox_to_anchor=(1, 1))
        if not labels:
            axes.text(0.5, 0.5, "no data in this window", ha="center", va="center", transform=axes.transAxes)
        return _svg(figure, title)


def _p50_p90_bars(title: str, found: Mapping[str, Durations]) -> str:
    longest = max((d.p90_seconds or 0 for d in found.values()), default=0)
    unit, size = next(((u, n) for u, n in DURATION_UNITS if longest >= n), ("seconds", 1))
    scaled = {f"p{p}": [(getattr(d, f"p{p}_seconds") or 0) / size for d in found.values()] for p in (50, 90)}
    return _bars(title, list(found), scaled, unit)


def _lines(title: str, days: Sequence[str], series: Mapping[str, Sequence[float]], unit: str) -> str:
    with matplotlib.rc_context(RC):
        figure = _figure(bottom=0.22, right=0.72)
        axes = figure.add_subplot()
        for n, (label, values) in enumerate(series.items()):
            axes.plot(days, values, marker="o", label=label, color=COLORS[n % len(COLORS)])
        axes.set_ylabel(unit)
        axes.tick_params(axis="x", labelrotation=35)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))
        return _svg(figure, title)


def _svg(figure: Figure, title: str) -> str:
    """The figure as inline SVG, labelled `title`; its ids are derived from the title (unique per
    chart), so the same report gives the same page."""
    out = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": title}):
        figure.savefig(out, format="svg")
    text = _STRIP.sub("", out.getvalue()).strip()
    return text.replace("<svg ", f'<svg role="img" aria-label="{e(title)}" ', 1)
