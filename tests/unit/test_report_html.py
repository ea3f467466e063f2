"""The KPI report's HTML page (starter/report_html.py): one self-contained page that loads nothing
(no script, stylesheet, font, image or URL; a Content-Security-Policy that forbids them), every
chart an inline SVG with its numbers in a table beside it, and what comes from data escaped in the
tables and the charts (a window with no data is drawn in tests/api/test_reports.py)."""

from __future__ import annotations

import re

import pytest

from domain.kpi_models import DeadLetterCounts, KpiInputs, KpiReport, KpiWindow
from domain.kpis import compute_kpis
from starter.report_html import render_kpi_report
from tests.support.kpi_traffic import DAY, T0, H, day_of_traffic

EVIL_TEAM = "<script>alert('team')</script>"
EVIL_RUN = 'purchase-order-"><img src=x onerror=alert(1)>'


def report(window: KpiWindow = DAY) -> KpiReport:
    traffic = day_of_traffic()
    traffic.po(T0 + 9 * H, "acknowledgement_overdue", "PO-66", escalated_to=EVIL_TEAM)
    traffic.po(T0 + 9 * H, "exception_escalated", "PO-67", kind="pricing_approval", team="$x$ & co")
    traffic.failed(EVIL_RUN, "PurchaseOrder", T0 + 12 * H)
    dead = DeadLetterCounts(intake_open=1, deliveries_dead=0)
    inputs = KpiInputs(window=window, generated_at=window.until, events=traffic.events,
                       onboarding_runs=traffic.onboarding_runs, failed_runs=traffic.other_runs,
                       dead_letters=dead, notes=["<b>a note</b>"])  # fmt: skip
    return compute_kpis(inputs)


@pytest.fixture(scope="module")
def page() -> str:
    return render_kpi_report(report())


def test_the_page_loads_nothing_and_says_so_to_the_browser(page: str) -> None:
    assert page.startswith("<!doctype html>")
    assert (
        """<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">"""
        in page
    )
    for fetching in ("<script", "<img", "<link", "<iframe", "<object", "<embed", "@import", "http://", "https://",
                     "<?xml", "<!DOCTYPE svg", "<metadata"):  # fmt: skip
        assert fetching not in page, fetching
    assert re.findall(r"<[^>]*\b(?:src|srcset|action)=", page) == []
    assert re.findall(r"url\((?!#)", page) == []  # only references inside an SVG (its clip paths)
    assert {href for href in re.findall(r'href="([^"]*)"', page) if not href.startswith("#")} == set()
    assert "sans-serif" in page  # the charts' text falls back to a font every system has


def test_every_chart_is_an_inline_svg_with_its_numbers_in_a_table_beside_it(page: str) -> None:
    pairs = re.findall(r'<div class="pair"><figure>(<svg .*?</svg>)</figure><div><table>(.*?)</table>', page, re.S)
    assert len(pairs) == page.count("<svg") == 11
    titles = re.findall(r'<svg role="img" aria-label="([^"]*)"', page)
    assert titles[:3] == ["Events per day", "First-pass match rate per day", "Onboarding cycle time"]
    assert "Master-data sync accuracy (latest run per entity)" in titles
    first_pass = pairs[1][1]
    assert '<td>2026-11-24</td><td class="n">3</td><td class="n">1</td><td>33.3 %</td>' in first_pass
    assert '<td>&lt; 10 s</td><td class="n">1</td>' in pairs[2][1]  # onboarding cycle times: 5 s
    assert '<td>all</td><td class="n">4</td><td>30.0 s</td><td>2.0 hours</td>' in page  # and its statistics
    assert "<td>Onboarding cycle time p50 / p90</td><td>30.0 s / 2.0 hours</td>" in page
    assert "<td>Dead letters open</td><td>1</td>" in page


def test_what_comes_from_data_is_escaped_in_tables_and_charts(page: str) -> None:
    assert EVIL_TEAM not in page
    assert "<td>&lt;script&gt;alert(&#x27;team&#x27;)&lt;/script&gt;</td>" in page  # in the breaches table
    [chart] = [svg for svg in re.findall(r"<svg .*?</svg>", page, re.S) if 'aria-label="SLA breaches by team"' in svg]
    assert ">&lt;script&gt;alert('team')&lt;/script&gt;</text>" in chart  # and on its chart
    assert "<script" not in page and "<img" not in page
    assert "purchase-order-&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;a note&lt;/b&gt;" in page and "<b>a note</b>" not in page
    assert "$x$ &amp; co" in page  # a dollar sign is a dollar sign, not math text
