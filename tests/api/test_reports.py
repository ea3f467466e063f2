"""`GET /v1/reports/kpis` over a real store (SQLite) holding a day of traffic and a fake of Temporal
visibility: the numbers of domain/kpis.py from what the store and visibility hold (events paged
through by type, the lookback before the window read, dead letters counted), the scope
`reports:read` (a vendor partner refused), a window that is not one (422 naming the parameter),
Temporal unreachable (200, with a note and the visibility numbers null) and the HTML page of a
window without data, with a policy that lets it load nothing. Temporal itself is not needed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from domain.events import BusinessEvent
from domain.intake import IntakeDeadLetter
from domain.subscriptions import Channel, DeliveryStatus, Subscription
from runtime.settings import Settings
from starter.api.app import create_app
from starter.api.security import issue_token
from starter.operations import kpis as operations
from store import Store
from tests.support.api import problem_of
from tests.support.kpi_traffic import DAY, T0, FakeVisibility, day_of_traffic

WINDOW = {"since": DAY.since.isoformat(), "until": DAY.until.isoformat()}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, FakeVisibility]]:
    settings = Settings(state_dir=tmp_path)
    traffic = day_of_traffic()
    store = Store(settings.resolved_store_url)
    for event in traffic.events:
        assert store.append_event(event)
    letter = IntakeDeadLetter(file_id="f-1", file_name="po.x12", kind="unknown_partner", position="ST 1",
                              reason="no such partner", raw="ST*850*0001~")  # fmt: skip
    store.intake.add_dead_letter(letter)
    erp = Subscription(subscription_id="erp", channel=Channel.WEBHOOK, types=["*"], url="https://erp.example.org/e",
                       created_by="t", created_at=T0)  # fmt: skip
    store.outbox.add_subscription(erp)
    store.append_event(BusinessEvent(event_id="late", type="master_data.drifted", subject="s", occurred_at=T0))
    [pending] = store.outbox.deliveries("erp", DeliveryStatus.PENDING)
    store.outbox.failed(pending.delivery_id, "HTTP 500", T0, timedelta(0))  # dead at once
    visibility = FakeVisibility(traffic.onboarding_runs + traffic.other_runs)
    app = create_app(settings, client=visibility, store=store)  # type: ignore[arg-type]
    app.state.temporal, app.state.store = visibility, store
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            yield client, settings, visibility
    finally:
        store.close()


def bearer(settings: Settings, *scopes: str, **kw: Any) -> dict[str, str]:
    token, _ = issue_token(settings, "ana", list(scopes), ["*"], **kw)
    return {"Authorization": f"Bearer {token}"}


async def test_the_kpis_of_a_window_from_the_store_and_visibility(
    api: tuple[httpx.AsyncClient, Settings, FakeVisibility], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, settings, visibility = api
    monkeypatch.setattr(operations, "PAGE", 4)  # several pages of each type
    response = await client.get("/v1/reports/kpis", params=WINDOW, headers=bearer(settings, "reports:read"))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["window"] == {"since": "2026-11-24T00:00:00Z", "until": "2026-11-25T00:00:00Z"}
    assert report["notes"] == []
    all_ = report["onboarding_cycle_time"]["all"]
    assert (all_["count"], all_["p50_seconds"], all_["p90_seconds"], all_["unmatched"]) == (4, 30.0, 7200.0, 1)
    ack = report["po_acknowledgement_latency"]  # PO-1 was released two days before the window
    assert (ack["count"], ack["p50_seconds"], ack["p90_seconds"]) == (2, 600.0, 176400.0)
    assert report["first_pass_match"] == {"decided": 3, "first_pass": 1, "rate": 1 / 3}
    assert report["sla_breaches_total"] == 5 and report["duplicate_suppliers_prevented"]["total"] == 2
    assert report["dead_letters_open"] == {"intake_open": 1, "deliveries_dead": 1, "total": 2}
    assert report["failed_runs"]["total"] == 2 and report["daily"][0]["failed_runs"] == 2
    assert any(q.startswith('ExecutionStatus = "Failed" AND CloseTime >= "2026-11-24T00:00:00Z"')
               for q in visibility.queries)  # fmt: skip


async def test_reports_read_is_needed_and_a_vendor_partner_is_refused(
    api: tuple[httpx.AsyncClient, Settings, FakeVisibility],
) -> None:
    client, settings, _ = api
    refused = await client.get("/v1/reports/kpis", headers=bearer(settings, "audit:read"))
    assert problem_of(refused, 403)["scope"] == "reports:read"
    vendor = bearer(settings, "reports:read", suppliers=["SUP-0001"])
    assert "every supplier" in problem_of(await client.get("/v1/reports/kpis", headers=vendor), 403)["detail"]
    assert (await client.get("/v1/reports/kpis")).status_code == 401


async def test_a_window_that_is_not_one_is_a_422_naming_the_parameter(
    api: tuple[httpx.AsyncClient, Settings, FakeVisibility],
) -> None:
    client, settings, _ = api
    headers = bearer(settings, "reports:read")
    backwards = await client.get("/v1/reports/kpis", params={"since": WINDOW["until"], "until": WINDOW["since"]},
                                 headers=headers)  # fmt: skip
    assert problem_of(backwards, 422)["errors"] == [{"field": "query.since", "reason": "since must be before until"}]
    too_long = await client.get("/v1/reports/kpis", params={"since": "2024-01-01T00:00:00Z", "until": WINDOW["until"]},
                                headers=headers)  # fmt: skip
    assert "366 days" in problem_of(too_long, 422)["detail"]
    assert problem_of(await client.get("/v1/reports/kpis", params={"since": "0.5"}, headers=headers), 422)


async def test_temporal_unreachable_still_reports_from_the_store_with_a_note(
    api: tuple[httpx.AsyncClient, Settings, FakeVisibility],
) -> None:
    client, settings, visibility = api
    visibility.down = True
    report = (await client.get("/v1/reports/kpis", params=WINDOW, headers=bearer(settings, "reports:read"))).json()
    assert report["failed_runs"] == {"available": False, "total": None, "by_type": {}, "runs": []}
    assert "could not be read" in report["notes"][0] and "connection refused" in report["notes"][0]
    assert report["po_cycle_time"]["count"] == 2


async def test_the_html_page_loads_nothing_from_anywhere(
    api: tuple[httpx.AsyncClient, Settings, FakeVisibility],
) -> None:
    client, settings, _ = api
    week_before = {"until": (T0 - timedelta(days=3)).isoformat(), "format": "html"}  # nothing happened: all empty
    page = await client.get("/v1/reports/kpis", params=week_before, headers=bearer(settings, "reports:read"))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert page.text.count("<svg") == 11 and "<script" not in page.text
    assert "no data in this window" in page.text and '<tr><td colspan="3">none</td></tr>' in page.text
    assert "<td>First-pass three-way match rate</td><td>-</td>" in page.text
