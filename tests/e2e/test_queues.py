"""`supplybridge queues` against a real stack: a run waiting for a team is counted in that team's
queue, the link opens the Temporal UI's list filtered to it, and a run that ended leaves the queue."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from runtime.binaries import temporal_cli_path
from tests.e2e.conftest import Stack
from tests.examples import EXAMPLES

pytestmark = pytest.mark.e2e

DUPLICATE = str(EXAMPLES / "suppliers" / "possible-duplicate-cascadia.json")


def queue_of(stack: Stack, team: str) -> dict[str, Any]:
    code, out = stack.cli("queues")
    assert code == 0 and out["ok"] is True and "status" not in out, out
    by_team = {queue["team"]: queue for queue in out["queues"]}
    assert {"purchasing", "pricing", "contracting", "receiving", "accounts-payable", "vendor-master-data"} <= set(
        by_team
    ), out
    return dict(by_team[team])


def listed_by_temporal(stack: Stack, query: str) -> list[str]:
    """Workflow ids the `temporal` CLI lists for the visibility query (the one the UI runs)."""
    done = subprocess.run(
        [str(temporal_cli_path()), "workflow", "list", "--address", stack.temporal, "--query", query, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [run["execution"]["workflowId"] for run in json.loads(done.stdout or "[]")]


def test_a_run_waiting_for_a_team_is_in_its_queue_until_it_ends(stack: Stack) -> None:
    before = queue_of(stack, "vendor-master-data")
    code, out = stack.cli("onboard", DUPLICATE, "--wait")
    assert code == 0 and out["stage"] == "awaiting_review", out
    workflow_id = out["workflow_id"]

    queue = queue_of(stack, "vendor-master-data")
    assert queue["open"] == before["open"] + 1
    assert queue["query"] == 'ExecutionStatus="Running" AND SupplyBridgeTeam="vendor-master-data"'
    link = urlsplit(queue["ui_url"])
    assert link.path == "/namespaces/default/workflows" and link.port == stack.ui_port
    assert parse_qs(link.query)["query"] == [queue["query"]]
    assert workflow_id in listed_by_temporal(stack, queue["query"])
    page = httpx.get(queue["ui_url"], timeout=10)  # the UI serves its list page for the link
    assert page.status_code == 200 and "<html" in page.text.lower()

    code, decided = stack.cli("approve", workflow_id, "--reason", "different company")
    assert code == 0 and decided["outcome"] == "onboarded", decided
    assert queue_of(stack, "vendor-master-data")["open"] == before["open"]
    ended = f'WorkflowId="{workflow_id}" AND SupplyBridgeTeam IS NOT NULL'
    assert listed_by_temporal(stack, ended) == []  # the completed run is no team's work any more
    assert decided["ui_url"].endswith("/history") and decided["ui_url"].count("/workflows/") == 1


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_the_queue_link_lists_the_teams_open_work_in_the_ui(stack: Stack) -> None:
    """The UI's list page, rendered by a headless browser from the printed link, shows the run."""
    code, out = stack.cli("onboard", str(EXAMPLES / "suppliers" / "possible-duplicate.json"), "--wait")
    assert code == 0 and out["stage"] == "awaiting_review", out
    url = queue_of(stack, "vendor-master-data")["ui_url"]
    profile = stack.state + "-chromium"
    done = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
         "--dump-dom", "--virtual-time-budget=10000", url],
        capture_output=True, text=True, timeout=90,
    )  # fmt: skip
    assert out["workflow_id"] in done.stdout, done.stderr[-2000:]
