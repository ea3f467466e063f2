"""`supplybridge report kpis` against a store in a state dir holding a day of traffic, with no
Temporal to reach: the report is made from the store (exit 0) and says what is missing; `--json`
prints it under `report`, text a line per KPI; a window that is not one exits 2 naming the option."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from starter.cli import app
from starter.cli_report import iso_instant
from store import Store
from tests.support.kpi_traffic import day_of_traffic

NO_TEMPORAL = ["--address", "127.0.0.1:1"]  # nothing listens there: refused at once


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("state")
    with Store(f"sqlite:///{state / 'supplybridge.sqlite'}") as store:
        for event in day_of_traffic().events:
            store.append_event(event)
    return state


def run(state: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*NO_TEMPORAL, "report", "kpis", *args, "--state-dir", str(state)],
                                env={"COLUMNS": "200"}, standalone_mode=False)  # fmt: skip
    assert result.exception is None, result.exception
    return int(result.return_value or 0), result.stdout, result.stderr


def test_the_report_of_a_window_from_the_store_alone_as_json(state: Path) -> None:
    code, out, _ = run(state, "--since", "2026-11-24", "--until", "2026-11-25T00:00:00Z", "--json")
    [line] = out.splitlines()
    answer: dict[str, Any] = json.loads(line)
    assert code == 0 and answer["ok"] is True and answer["html"] is None
    report = answer["report"]
    assert report["window"] == {"since": "2026-11-24T00:00:00Z", "until": "2026-11-25T00:00:00Z"}
    assert report["po_cycle_time"]["count"] == 2 and report["sla_breaches_total"] == 5
    assert report["failed_runs"]["available"] is False
    assert report["notes"][0].startswith("cannot reach Temporal at 127.0.0.1:1")


def test_text_has_a_line_per_kpi_and_the_notes_on_stderr(state: Path) -> None:
    code, out, err = run(state, "--since", "2026-11-24T00:00", "--until", "2026-11-25")
    assert code == 0
    assert "KPIs from 2026-11-24 00:00 to 2026-11-25 00:00 UTC" in out
    assert "  first-pass match       33.3 % (1 of 3 invoices)" in out
    assert "  PO cycle to closed     p50 1.2 days, p90 2.2 days (2 closed)" in out
    assert "  failed runs            unavailable" in out
    assert "note: cannot reach Temporal" in err


def test_a_window_that_is_not_one_exits_2_naming_the_option(state: Path) -> None:
    code, out, _ = run(state, "--since", "2026-11-25", "--until", "2026-11-24", "--json")
    assert code == 2
    assert json.loads(out)["errors"] == [{"field": "--since", "reason": "since must be before until"}]
    assert iso_instant("2026-11-24T09:00+01:00").isoformat() == "2026-11-24T08:00:00+00:00"
    result = CliRunner().invoke(app, ["report", "kpis", "--since", "yesterday", "--json"], standalone_mode=False)
    assert "not an ISO 8601 date" in str(result.exception)
