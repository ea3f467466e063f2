"""The audit trail on SQLite and PostgreSQL: append-only chain, queries, tamper detection,
concurrent writers, masking; and the API's idempotency records."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from domain.audit import AuditRecord
from store import Store


def record(n: int, **kw: object) -> AuditRecord:
    fields: dict[str, object] = {
        "actor": "client:erp-bridge",
        "action": "purchase_order.submitted",
        "record_type": "purchase_order",
        "record_id": f"PO-{n}",
        "details": {"n": n},
    }
    return AuditRecord.model_validate({**fields, **kw})


def test_entries_chain_and_verify(store: Store) -> None:
    first = store.audit.append(record(1))
    second = store.audit.append(record(2, actor="user:ana"))
    assert (first.seq, second.seq) == (1, 2) and second.prev_hash == first.hash
    report = store.audit.verify()
    assert report.ok and report.entries == 2

    assert [e.seq for e in store.audit.query(actor="user:ana")] == [2]
    assert [e.seq for e in store.audit.query(record_type="purchase_order", record_id="PO-1")] == [1]
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert store.audit.query(since=later) == [] and len(store.audit.query(until=later)) == 2


def test_altering_one_row_breaks_verification_at_that_row(store: Store, database_url: str) -> None:
    for n in range(1, 6):
        store.audit.append(record(n))
    with store._engine.begin() as connection:  # an attacker with database access
        connection.execute(text("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 3"))
    report = store.audit.verify()
    assert not report.ok and report.first_broken_seq == 3 and "hash" in (report.reason or "")


def test_removing_a_row_breaks_verification(store: Store) -> None:
    for n in range(1, 5):
        store.audit.append(record(n))
    with store._engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 2"))
    report = store.audit.verify()
    assert not report.ok and report.first_broken_seq == 3


def test_concurrent_writers_never_fork_the_chain(store: Store) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda n: store.audit.append(record(n)), range(40)))
    entries = store.audit.query(limit=100)
    assert [e.seq for e in entries] == list(range(1, 41))
    assert store.audit.verify().ok


def test_sensitive_values_never_enter_the_trail_in_clear(store: Store) -> None:
    details = {"tax_id": {"kind": "EIN", "value": "36-4412098"}, "bank_account": {"account_number": "448812930017"}}
    entry = store.audit.append(record(1, details=details))
    stored = store.audit.query()[0]
    assert "4412098" not in stored.model_dump_json() and "448812930017" not in stored.model_dump_json()
    assert entry.details["bank_account"]["account_number"] == "•••0017"


def test_idempotency_claim_complete_release_and_expiry(store: Store) -> None:
    records = store.idempotency
    day = timedelta(hours=24)
    assert records.claim("p1", "k", method="POST", path="/v1/x", request_hash="h", retention=day) is None
    in_flight = records.claim("p1", "k", method="POST", path="/v1/x", request_hash="h", retention=day)
    assert in_flight is not None and in_flight.state == "in_flight"
    assert (
        records.claim("p2", "k", method="POST", path="/v1/x", request_hash="h", retention=day) is None
    )  # per principal
    records.complete("p1", "k", 202, '{"ok": true}')
    done = records.claim("p1", "k", method="POST", path="/v1/x", request_hash="h", retention=day)
    assert done is not None and (done.state, done.status_code, done.body) == ("done", 202, '{"ok": true}')
    records.release("p2", "k")
    assert records.find("p2", "k") is None
    assert (
        records.claim("p3", "k", method="POST", path="/v1/x", request_hash="h", retention=timedelta(seconds=-1)) is None
    )
    assert records.claim("p3", "k", method="POST", path="/v1/x", request_hash="h2", retention=day) is None  # expired


def test_an_event_and_its_audit_entry_are_recorded_together_once(store: Store) -> None:
    from domain.events import BusinessEvent

    event = BusinessEvent(
        event_id="wf:run:1:purchase_order.closed",
        type="purchase_order.closed",
        subject="PO-1",
        workflow_id="purchase-order-PO-1",
        occurred_at=datetime.now(UTC),
        data={"outcome": "closed"},
    )
    audit = record(1, actor="workflow:purchase-order-PO-1", action="purchase_order.closed", outcome="closed")
    assert store.append_event(event, audit=audit) is True
    assert store.append_event(event, audit=audit) is False  # a retried publish: neither is written again
    [entry] = store.audit.query()
    assert entry.action == "purchase_order.closed" and entry.outcome == "closed" and store.audit.verify().ok
