"""Issue 16, part 2: `GET /metrics` on the API (starter/api/metrics.py): Prometheus text without a
token, the deployment gauges read from visibility and the store, no business data in labels."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import Client

from runtime.metrics import process_metrics
from runtime.settings import Settings
from starter.api.app import create_app
from store import Store


@dataclass
class Counted:
    count: int


@dataclass
class FakeVisibility:
    """Temporal's `count_workflows`: two pricing decisions open, one escalated to its managers."""

    open: dict[str, int] = field(default_factory=lambda: {"pricing": 2, "pricing-managers": 1})
    queries: list[str] = field(default_factory=list)
    down: bool = False

    async def count_workflows(self, query: str | None = None) -> Counted:
        if self.down:
            raise RuntimeError("Temporal is unreachable")
        self.queries.append(query or "")
        team = re.search(r'SupplyBridgeTeam="([^"]+)"', query or "")
        return Counted(self.open.get(team.group(1), 0) if team else 0)


@asynccontextmanager
async def api(tmp_path: Path, visibility: FakeVisibility) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(environment="development", state_dir=tmp_path)
    with Store(settings.resolved_store_url) as store:
        app = create_app(settings, client=cast(Client, visibility), store=store)
        app.state.temporal, app.state.store = visibility, store
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            yield client


async def test_metrics_are_served_without_a_token_with_the_deployment_gauges(tmp_path: Path) -> None:
    process_metrics().business.run_completed("Invoice", "duplicate_invoice")
    async with api(tmp_path, FakeVisibility()) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'supplybridge_decisions_waiting{team="pricing"} 2.0' in text
    assert 'supplybridge_decisions_waiting{team="pricing-managers"} 1.0' in text
    assert 'supplybridge_decisions_waiting{team="receiving"} 0.0' in text
    assert 'supplybridge_dead_letters_open{kind="intake"} 0.0' in text
    assert 'supplybridge_dead_letters_open{kind="event_delivery"} 0.0' in text
    assert 'supplybridge_workflow_runs_completed_total{outcome="duplicate_invoice",workflow="Invoice"}' in text
    assert "process_resident_memory_bytes" in text or "python_info" in text
    for family in text_string_to_metric_families(text):
        if family.name.startswith("supplybridge_"):
            for sample in family.samples:
                for name, value in sample.labels.items():
                    assert name == "le" or re.fullmatch(r"[A-Za-z][A-Za-z_-]*", value), (sample.name, name, value)


async def test_visibility_is_read_at_most_every_refresh_interval_and_a_failure_keeps_the_page(tmp_path: Path) -> None:
    visibility = FakeVisibility()
    async with api(tmp_path, visibility) as client:
        assert (await client.get("/metrics")).status_code == 200
        asked = len(visibility.queries)
        assert asked and all("SupplyBridgeDecision IS NOT NULL" in q for q in visibility.queries)
        assert (await client.get("/metrics")).status_code == 200
        assert len(visibility.queries) == asked  # the second scrape used the values read by the first
    visibility.down = True
    async with api(tmp_path, visibility) as client:  # a new app reads again, and Temporal is down
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert 'supplybridge_metrics_refresh_errors_total{source="visibility"}' in response.text


async def test_openmetrics_when_the_scraper_asks_and_the_route_is_documented(tmp_path: Path) -> None:
    async with api(tmp_path, FakeVisibility()) as client:
        response = await client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        document = (await client.get("/openapi.json")).json()
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")
    operation = document["paths"]["/metrics"]["get"]
    assert "operations" in operation["tags"] and not operation.get("security")
    assert any(media.startswith("text/plain") for media in operation["responses"]["200"]["content"])
