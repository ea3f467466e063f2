"""`/v1/runs` triage over HTTP: failed runs listed with their system and error, a retry (dry run
first), replayed under its Idempotency-Key and refused the second time ("already retried as run
X", 409), a bulk retry by query (422 naming `body.query` for a query Temporal cannot use), the
scopes (`runs:write` implies `runs:read`; a vendor partner is refused) and the audit entry. The
refusals need no Temporal; the rest runs against a dev server (visibility and reset)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from runtime.settings import Settings
from starter.api.app import create_app
from starter.api.security import issue_token
from store import Store
from tests.support.api import problem_of
from tests.support.triage_probe import ProbeSystem, dev_server, probe_worker, start_probe

READ, WRITE = "runs:read", "runs:write"


@asynccontextmanager
async def api(tmp_path: Path, temporal: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, Store]]:
    settings = Settings(state_dir=tmp_path)
    store = Store(settings.resolved_store_url)
    app = create_app(settings, client=temporal, store=store)
    app.state.temporal, app.state.store = temporal, store
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            yield client, settings, store
    finally:
        store.close()


def bearer(settings: Settings, *scopes: str, **kw: Any) -> dict[str, str]:
    token, _ = issue_token(settings, kw.pop("subject", "ana"), list(scopes), ["*"], **kw)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def temporal() -> AsyncIterator[Client]:
    async with dev_server() as client:
        yield client


async def test_refusals_need_no_temporal(tmp_path: Path) -> None:
    async with api(tmp_path, object()) as (client, settings, _):
        problem_of(await client.get("/v1/runs", params={"state": "failed"}), 401)
        lacking = problem_of(await client.get("/v1/runs", params={"state": "failed"},
                                              headers=bearer(settings, "procurement:write")), 403)  # fmt: skip
        assert lacking["scope"] == READ
        partner = bearer(settings, WRITE, suppliers=["SUP-0001"])
        assert "vendor partner" in problem_of(await client.get("/v1/runs?state=failed", headers=partner), 403)["title"]
        reader = bearer(settings, READ)
        problem_of(await client.get("/v1/runs", params={"state": "broken"}, headers=reader), 422)
        problem_of(await client.get("/v1/runs", params={"state": "failed", "type": "x' OR 1=1"}, headers=reader), 422)
        refused = problem_of(
            await client.post("/v1/runs/retry", json={"query": "WorkflowType='X'"}, headers=reader), 403
        )
        assert refused["scope"] == WRITE
        problem_of(await client.post("/v1/runs/probe-1/retry", headers=reader), 403)
        for method in ("GET", "DELETE"):  # not read as the run `retry` of GET /v1/runs/{workflow_id}
            other = await client.request(method, "/v1/runs/retry", headers=reader)
            assert problem_of(other, 405) and other.headers["Allow"] == "POST"
        problem_of(await client.post("/v1/runs/retry", json={"query": ""}, headers=bearer(settings, WRITE)), 422)


async def test_list_retry_once_and_bulk(tmp_path: Path, temporal: Client) -> None:
    probe = ProbeSystem(credentials_ok=False)
    async with api(tmp_path, temporal) as (client, settings, store), probe_worker(temporal, probe) as queue:
        await start_probe(temporal, queue, "P1")
        with pytest.raises(Exception, match="Workflow execution failed"):
            await temporal.get_workflow_handle("probe-P1").result()
        writer = bearer(settings, WRITE)  # implies runs:read
        listed: dict[str, Any] = {}
        for _ in range(300):  # visibility is eventually consistent
            listed = (await client.get("/v1/runs?state=failed&type=TriageProbe", headers=writer)).json()
            if listed["items"]:
                break
            await asyncio.sleep(0.05)
        [failed] = listed["items"]
        assert failed["workflow_id"] == "probe-P1" and failed["system"] == "erp" and "401" in failed["error"]

        planned = await client.post("/v1/runs/probe-P1/retry?dry_run=true", headers=writer)
        assert planned.status_code == 200 and planned.json()["outcome"] == "would_retry", planned.text

        probe.credentials_ok = True
        keyed = {**writer, "Idempotency-Key": "retry-p1"}
        done = await client.post("/v1/runs/probe-P1/retry", headers=keyed)
        assert done.status_code == 200 and done.json()["outcome"] == "retried", done.text
        new_run = done.json()["new_run_id"]
        assert await temporal.get_workflow_handle("probe-P1", run_id=new_run).result() == "ERP-P1"
        replayed = await client.post("/v1/runs/probe-P1/retry", headers=keyed)
        assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.json() == done.json()

        again = problem_of(await client.post("/v1/runs/probe-P1/retry", headers=writer), 409)
        assert again["detail"] == f"probe-P1: already retried as run {new_run}, which is completed"
        bulk = await client.post("/v1/runs/retry", json={"query": "WorkflowType='TriageProbe'"}, headers=writer)
        assert bulk.status_code == 200 and bulk.json()["skipped"] == 1 and bulk.json()["retried"] == 0, bulk.text
        assert bulk.json()["items"][0]["detail"] == f"already retried as run {new_run} (reset, by ana)"

        bad = problem_of(await client.post("/v1/runs/retry", json={"query": "WorkflowType = ("}, headers=writer), 422)
        assert bad["errors"][0]["field"] == "body.query"
        problem_of(await client.post("/v1/runs/no-such-run/retry", headers=writer), 404)
        for state in ("stuck", "waiting"):
            answer = await client.get(f"/v1/runs?state={state}", headers=bearer(settings, READ))
            assert answer.status_code == 200 and answer.json() == {"state": state, "items": []}, answer.text

        entries = store.audit.query(record_type="workflow_run", record_id="probe-P1")
        assert [(e.actor, e.action, e.outcome, e.details["via"]) for e in entries] == [
            ("ana", "run.retried", "reset", "jwt")
        ]
