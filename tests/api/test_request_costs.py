"""What one governed POST costs besides its Temporal call (issue 9, the API bench): two store
transactions (the Idempotency-Key's claim; its answer together with the audit entry), and no
dependency that FastAPI would run in a worker thread. Counted, never timed."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Engine, event

from runtime.settings import Settings
from starter.api import codec_routes, oauth, v1, webhooks
from starter.api.app import create_app
from store.audit import AuditTrail
from tests.api.test_fault_tolerance_api import PO, FakeTemporal, api


@contextmanager
def commits_counted() -> Iterator[list[int]]:
    counted: list[int] = []

    def count(_connection: Any) -> None:
        counted.append(1)

    event.listen(Engine, "commit", count)
    try:
        yield counted
    finally:
        event.remove(Engine, "commit", count)


async def test_a_po_with_an_idempotency_key_costs_two_store_transactions(tmp_path: Path) -> None:
    async with api(tmp_path, FakeTemporal()) as (client, store):
        with commits_counted() as commits:
            accepted = await client.post("/v1/purchase-orders", json=PO, headers={"Idempotency-Key": "po-1"})
        assert accepted.status_code == 202, accepted.text
        assert len(commits) == 2  # the claim (expired record purged in it); the answer with its audit entry

        [entry] = store.audit.query(record_type="purchase_order")
        assert entry.action == "purchase_order.submitted" and entry.actor == "ana"
        kept = store.idempotency.find("jwt:ana", "po-1")
        assert kept is not None and kept.state == "done" and kept.status_code == 202
        assert store.audit.verify().ok


async def test_without_a_key_the_audit_entry_is_the_only_write(tmp_path: Path) -> None:
    async with api(tmp_path, FakeTemporal()) as (client, store):
        with commits_counted() as commits:
            accepted = await client.post("/v1/purchase-orders", json=PO)
        assert accepted.status_code == 202, accepted.text
        assert len(commits) == 1
        assert [e.action for e in store.audit.query()] == ["purchase_order.submitted"]


async def test_an_answer_whose_audit_entry_cannot_be_written_is_not_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answer and audit entry are one transaction: when the entry fails, the claim is given up, so
    the retry runs (the start joins the run) and is audited then, exactly once."""
    temporal = FakeTemporal()
    async with api(tmp_path, temporal) as (client, store):
        add_in = AuditTrail.add_in

        def unavailable(self: AuditTrail, session: Any, record: Any) -> Any:
            raise RuntimeError("the audit table is unavailable")

        monkeypatch.setattr(AuditTrail, "add_in", unavailable)
        key = {"Idempotency-Key": "po-audit"}
        with pytest.raises(RuntimeError, match="audit table is unavailable"):
            await client.post("/v1/purchase-orders", json=PO, headers=key)
        assert store.idempotency.find("jwt:ana", "po-audit") is None
        assert store.audit.query() == []

        monkeypatch.setattr(AuditTrail, "add_in", add_in)
        again = await client.post("/v1/purchase-orders", json=PO, headers=key)
        assert again.status_code == 202 and "Idempotent-Replayed" not in again.headers
        assert [e.action for e in store.audit.query()] == ["purchase_order.submitted"]


def _dependency_calls(route: APIRoute) -> Iterator[Callable[..., Any]]:
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        pending.extend(dependant.dependencies)
        if dependant.call is not None:
            yield dependant.call


def _runs_on_the_event_loop(call: Callable[..., Any]) -> bool:
    if inspect.isfunction(call):
        return inspect.iscoroutinefunction(call)
    return inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004 (security schemes are instances)


def test_no_route_dependency_is_run_in_a_worker_thread(tmp_path: Path) -> None:
    """FastAPI runs a plain `def` dependency in its thread pool: a thread hop per request."""
    app = create_app(Settings(state_dir=tmp_path))
    routers = [app.router, v1.router, oauth.router, webhooks.router, codec_routes.router]
    routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
    threaded = {
        f"{route.path}: {getattr(call, '__qualname__', call)}"
        for route in routes
        for call in _dependency_calls(route)
        if not _runs_on_the_event_loop(call)
    }
    assert {"/v1/purchase-orders", "/v1/audit", "/health"} <= {route.path for route in routes}
    assert threaded == set()
