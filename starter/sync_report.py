"""The drift report of one master-data sync, as JSON, CSV or a self-contained HTML page (a
summary, a bar chart of drifted fields per system, and one row per record, system and field that
differed: the value before, masked when sensitive, the surviving value, the rule that chose it
and what was done). Pure rendering: the CLI reads the run and its rows from the store."""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from typing import Any

from domain.master_data.summary import DriftRow, SyncSummary, field_label

COLUMNS = ("record", "system", "local_id", "field", "before", "surviving", "rule", "action", "outcome")
BAR_WIDTH = 360


def _value(row: DriftRow, name: str) -> str:
    value = getattr(row, name)
    return field_label(value) if name == "field" else _cell(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def report_json(sync_id: str, summary: SyncSummary | None, rows: list[DriftRow]) -> dict[str, Any]:
    return {
        "sync_id": sync_id,
        "summary": summary.model_dump(mode="json") if summary else None,
        "rows": [{name: getattr(row, name) for name in COLUMNS} for row in rows if row.rule != "golden_record"],
    }


def report_csv(rows: list[DriftRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        if row.rule != "golden_record":
            writer.writerow([_value(row, name) for name in COLUMNS])
    return out.getvalue()


def report_html(sync_id: str, summary: SyncSummary | None, rows: list[DriftRow]) -> str:
    shown = [row for row in rows if row.rule != "golden_record"]
    e = html.escape
    facts = _summary_facts(summary)
    charts = "".join(_chart(system, Counter(field_label(r.field) for r in shown if r.system == system))
                     for system in sorted({r.system for r in shown}))  # fmt: skip
    body_rows = "".join(
        "<tr>" + "".join(f"<td>{e(_value(row, name))}</td>" for name in COLUMNS) + "</tr>" for row in shown
    )
    head = "".join(f"<th>{e(name.replace('_', ' '))}</th>" for name in COLUMNS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Drift report {e(sync_id)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #1b1f24; }}
table {{ border-collapse: collapse; margin: 1rem 0; }} th, td {{ border: 1px solid #d0d7de; padding: .3rem .6rem;
text-align: left; vertical-align: top; font-size: .9rem; }} th {{ background: #f6f8fa; }}
.charts {{ display: flex; flex-wrap: wrap; gap: 2rem; }} figure {{ margin: 0; }}
</style></head><body>
<h1>Drift report</h1><p>Sync <code>{e(sync_id)}</code></p>
<h2>Summary</h2><table>{"".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in facts)}</table>
<h2>Drift by field, per system</h2><div class="charts">{charts or "<p>No drift.</p>"}</div>
<h2>Every difference ({len(shown)})</h2><table><thead><tr>{head}</tr></thead><tbody>{body_rows}</tbody></table>
</body></html>
"""


def _summary_facts(summary: SyncSummary | None) -> list[tuple[str, str]]:
    if summary is None:
        return [("state", "still running: no summary yet")]
    return [
        ("entity", summary.entity),
        ("dry run", "yes" if summary.dry_run else "no"),
        ("records read", ", ".join(f"{system} {count}" for system, count in summary.read.items())),
        ("matched", str(summary.matched)),
        ("in sync after the run", str(summary.in_sync)),
        ("sync accuracy", f"{summary.accuracy:.1%}"),
        ("corrected", str(summary.corrected)),
        ("created", str(summary.created)),
        ("conflicts (tasks for vendor-master-data)", str(summary.conflicts)),
        ("kept as they are", str(summary.kept)),
        ("rejected records", "; ".join(summary.rejected) or "none"),
        ("refused by a system", ", ".join(summary.failed) or "none"),
        ("duration", f"{summary.duration_seconds:.1f} s"),
    ]


def _chart(system: str, fields: Counter[str]) -> str:
    """A horizontal bar chart (inline SVG) of how many records drifted in each field."""
    top = max(fields.values())
    bars = []
    for i, (field, count) in enumerate(fields.most_common()):
        width = max(2, round(BAR_WIDTH * count / top))
        y = i * 26
        bars.append(
            f'<text x="0" y="{y + 16}" font-size="12">{html.escape(field)}</text>'
            f'<rect x="140" y="{y + 4}" width="{width}" height="16" fill="#0969da"></rect>'
            f'<text x="{146 + width}" y="{y + 16}" font-size="12">{count}</text>'
        )
    height = 26 * len(fields) + 4
    return (f'<figure><figcaption><strong>{html.escape(system)}</strong></figcaption>'
            f'<svg role="img" aria-label="drift by field in {html.escape(system)}" width="{BAR_WIDTH + 200}" '
            f'height="{height}">{"".join(bars)}</svg></figure>')  # fmt: skip
