"""Links into the Temporal UI: a run's link opens that run (not the id's latest run), a team's
queue link carries its visibility query, and the demo's report reads in an 80-column CI log with
no id or link cut."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

from rich.console import Console

from runtime.settings import Settings
from starter.cli_queues import open_work_query, workflows_list_url
from starter.demo_report import DemoProgress, Row, print_report

RUN_ID = "01a20f19-a2e8-7c6b-8d85-8783eb45fa96"


def test_a_run_link_with_its_run_id_opens_that_runs_history() -> None:
    s = Settings(temporal_ui_port=8233)
    assert s.workflow_url("invoice-SUP-0002-NSS-889121", RUN_ID) == (
        f"http://127.0.0.1:8233/namespaces/default/workflows/invoice-SUP-0002-NSS-889121/{RUN_ID}/history"
    )
    assert s.workflow_url("x") == "http://127.0.0.1:8233/namespaces/default/workflows/x"
    assert s.workflow_url("a b/c") == "http://127.0.0.1:8233/namespaces/default/workflows/a%20b%2Fc"


def test_a_queue_link_is_the_ui_list_filtered_by_the_teams_open_work() -> None:
    s = Settings(temporal_ui_port=8300, temporal_namespace="p2p")
    query = open_work_query("pricing")
    assert query == 'ExecutionStatus="Running" AND SupplyBridgeTeam="pricing"'
    link = urlsplit(workflows_list_url(s, query))
    assert (link.netloc, link.path) == ("127.0.0.1:8300", "/namespaces/p2p/workflows")
    assert parse_qs(link.query) == {"query": [query]}
    assert " " not in workflows_list_url(s, query) and '"' not in workflows_list_url(s, query)


def rows() -> list[Row]:
    ui = "http://127.0.0.1:8233/namespaces/default/workflows"
    gowns = f"{ui}/purchase-order-PO-2026-000451/{RUN_ID}/history"
    return [
        Row("possible-duplicate.json", "supplier-onboarding-VM-200421", "onboarded",
            "ERP supplier SUP-0008 (review: approved)", True, f"{ui}/supplier-onboarding-VM-200421/{RUN_ID}/history"),
        Row("po-northgate-gowns.json", "purchase-order-PO-2026-000451", "open",
            "created in the ERP, reserved at LOC-OR-02, vendor notified and acknowledged; 20 CS + 10 BX received",
            True, gowns),
        Row("inv-price-variance.json", "invoice-SUP-0002-NSS-889121", "awaiting_resolution",
            "price_variance exception for team pricing: line 1 billed 91.25 per CS, contract price 84.50", True,
            f"{ui}/invoice-SUP-0002-NSS-889121/{RUN_ID.replace('a', 'b')}/history"),
        Row("resolve: request credit memo", "invoice-SUP-0002-NSS-889121", "credit_memo_requested",
            "AP holds it; dispute recorded", False, f"{ui}/invoice-SUP-0002-NSS-889121/{RUN_ID}/history"),
        Row("PO-2026-000451 after inv-clean", "purchase-order-PO-2026-000451", "closed",
            "fully received and invoiced: closed in the ERP", True, gowns),
    ]  # fmt: skip


def rendered(width: int = 80) -> list[str]:
    out = io.StringIO()
    print_report(Console(file=out, width=width, force_terminal=False, color_system=None), rows())
    return out.getvalue().splitlines()


def test_the_demo_table_fits_80_columns_and_cuts_no_outcome_id_or_link() -> None:
    lines = rendered()
    links = [line.strip() for line in lines if line.strip().startswith("http")]
    assert all(len(line) <= 80 for line in lines if not line.strip().startswith("http")), "\n".join(lines)
    assert sorted(links) == sorted({r.url for r in rows()})  # each link whole, on a line of its own
    words = {word for line in lines for word in line.replace("│", " ").split()}
    for r in rows():
        assert r.outcome in words and f"{r.workflow_id}" in words
    assert "[2, 5] purchase-order-PO-2026-000451" in "\n".join(lines)  # rows about one run share its link
    assert "NO" in words


def test_the_demo_says_each_scenario_as_it_finishes_and_nothing_with_json() -> None:
    out = io.StringIO()
    progress = DemoProgress(Console(file=out, width=80, force_terminal=False))
    for row in rows()[:2]:
        progress.add(row)
    said = out.getvalue().splitlines()
    assert [line.split("  (")[0] for line in said] == [
        "  1. ok  possible-duplicate.json -> onboarded",
        "  2. ok  po-northgate-gowns.json -> open",
    ]
    quiet = io.StringIO()
    silent = DemoProgress(Console(file=quiet), quiet=True)
    silent.add(rows()[3])
    assert quiet.getvalue() == "" and silent.rows == [rows()[3]] and not silent.all_ok
