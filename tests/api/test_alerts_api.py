"""`GET /v1/alerts` (scope `reports:read`): the open alerts, or all with `?all=true`, newest first;
a caller without the scope, or a vendor partner, is refused. Temporal is not needed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.alert_facts import AlertKind, Measurement
from domain.alerts import AlertPlan, AlertRule, AlertUpdate, NewAlert
from runtime.settings import Settings
from starter.api.app import create_app
from starter.api.security import issue_token
from store import Store
from store.alerts import AlertRecords
from tests.support.api import problem_of

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, Store]]:
    settings = Settings(state_dir=tmp_path)
    store = Store(settings.resolved_store_url)
    app = create_app(settings, client=object(), store=store)  # type: ignore[arg-type]
    app.state.temporal, app.state.store = object(), store
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            yield client, settings, store
    finally:
        store.close()


def bearer(settings: Settings, *scopes: str, **kw: Any) -> dict[str, str]:
    token, _ = issue_token(settings, "ana", list(scopes), ["*"], **kw)
    return {"Authorization": f"Bearer {token}"}


async def test_the_alerts_open_or_all_for_reports_read(api: tuple[httpx.AsyncClient, Settings, Store]) -> None:
    client, settings, store = api
    alerts = AlertRecords.of(store)
    rule = AlertRule(id="system-failing", kind=AlertKind.SYSTEM_FAILING, threshold=0.5)
    for n, subject in enumerate(["erp", "ap"]):
        found = Measurement(subject=subject, value=1, breached=True, summary=f"{subject}: 2 of 2 calls failed")
        alerts.apply(AlertPlan(raised=[NewAlert(rule=rule, measurement=found)]), f"e{n}", NOW, timedelta(hours=1))
    first = alerts.open_alerts()[0]
    alerts.apply(AlertPlan(resolved=[AlertUpdate(alert_id=first.alert_id, summary="erp: back")]), "e9", NOW,
                 timedelta(hours=1))  # fmt: skip

    listed = await client.get("/v1/alerts", headers=bearer(settings, "reports:read"))
    assert listed.status_code == 200, listed.text
    assert [(a["subject"], a["status"], a["team"]) for a in listed.json()["items"]] == [("ap", "open", "operations")]
    every = await client.get("/v1/alerts?all=true", headers=bearer(settings, "reports:read"))
    assert [a["subject"] for a in every.json()["items"]] == ["ap", "erp"]

    problem_of(await client.get("/v1/alerts", headers=bearer(settings, "subscriptions:read")), 403)
    vendor = bearer(settings, "reports:read", suppliers=["SUP-0001"])
    assert "bound to suppliers" in problem_of(await client.get("/v1/alerts", headers=vendor), 403)["detail"]
    problem_of(await client.get("/v1/alerts"), 401)
