"""`supplybridge alerts list|rules` against a store in a state dir: the open alerts (or all of them
with --all), newest first, as one JSON object or a few lines each; the rules in force (the built-in
ones, or the file SUPPLYBRIDGE_ALERT_RULES names), and a rules file that is not valid exits 2
naming each field at fault."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from domain.alert_facts import AlertKind, Measurement
from domain.alerts import AlertPlan, AlertRule, AlertUpdate, NewAlert
from starter.cli import app
from store import Store
from store.alerts import AlertRecords

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    with Store(f"sqlite:///{tmp_path / 'state' / 'supplybridge.sqlite'}") as store:
        alerts = AlertRecords.of(store)
        for n, (kind, subject) in enumerate([(AlertKind.SYSTEM_FAILING, "erp"), (AlertKind.RUN_FAILED, "po-1")]):
            rule = AlertRule(id=kind.value.replace("_", "-"), kind=kind, threshold=0.5)
            found = Measurement(subject=subject, value=1, breached=True, summary=f"{subject}: failing")
            alerts.apply(AlertPlan(raised=[NewAlert(rule=rule, measurement=found)]), f"e{n}", NOW, timedelta(hours=1))
        [first, *_] = alerts.open_alerts()
        cleared = AlertPlan(resolved=[AlertUpdate(alert_id=first.alert_id, summary="erp: 0 of 2 calls failed")])
        alerts.apply(cleared, "e3", NOW + timedelta(minutes=5), timedelta(hours=1))
    return tmp_path / "state"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["alerts", *args], env={"COLUMNS": "100", **(env or {})}, standalone_mode=False)
    assert result.exception is None, result.exception
    return int(result.return_value or 0), result.stdout


def test_list_shows_the_open_alerts_or_all_of_them(state: Path) -> None:
    code, out = run("list", "--state-dir", str(state), "--json")
    listed: dict[str, Any] = json.loads(out)
    assert code == 0 and listed["ok"] is True
    assert [(a["rule_id"], a["subject"], a["status"]) for a in listed["alerts"]] == [("run-failed", "po-1", "open")]

    code, out = run("list", "--all", "--state-dir", str(state))
    assert code == 0
    assert "    1 resolved warning  system-failing erp" in out and "erp: 0 of 2 calls failed" in out
    assert "    2 open     warning  run-failed po-1" in out and "announced 1 time" in out


def test_rules_shows_the_rules_in_force_and_refuses_a_bad_file_naming_the_field(tmp_path: Path) -> None:
    code, out = run("rules", "--json")
    shown = json.loads(out)
    assert code == 0 and shown["source"].startswith("built-in")
    assert {r["kind"] for r in shown["rules"]} == {k.value for k in AlertKind}

    mine = tmp_path / "rules.json"
    mine.write_text(json.dumps({"rules": [{"id": "erp-down", "kind": "system_failing", "threshold": 0.2}]}))
    code, out = run("rules", env={"SUPPLYBRIDGE_ALERT_RULES": str(mine)})
    assert code == 0 and str(mine) in out and "erp-down" in out and "system_failing" in out

    mine.write_text(json.dumps({"rules": [{"id": "erp-down", "kind": "system_failing", "threshold": 2}]}))
    code, out = run("rules", "--json", env={"SUPPLYBRIDGE_ALERT_RULES": str(mine)})
    refused = json.loads(out)
    assert code == 2 and refused["ok"] is False
    assert refused["errors"] == [{"field": "rules.0.threshold", "reason": refused["errors"][0]["reason"]}]
    assert "below 1" in refused["errors"][0]["reason"]
