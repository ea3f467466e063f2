"""The store's share of an API request: the answer kept under an Idempotency-Key together with
the request's audit entry (one transaction), and SQLite writers of one process queued on its one
connection instead of colliding in the file (issue 9, the API bench)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.audit import AuditRecord
from store import Store
from store.audit import AuditTrail
from store.idempotency import Claim

RETENTION = timedelta(hours=24)


def _claim(store: Store, key: str) -> Claim:
    held = store.idempotency.acquire("jwt:ana", key, method="POST", path="/v1/x", request_hash="h", retention=RETENTION)
    assert isinstance(held, Claim)
    return held


def _record(record_id: str) -> AuditRecord:
    return AuditRecord(actor="ana", action="po.submitted", record_type="purchase_order", record_id=record_id)


def test_the_answer_and_its_audit_entry_are_kept_together(store: Store) -> None:
    claim = _claim(store, "k1")

    kept = store.idempotency.complete("jwt:ana", "k1", 202, '{"ok":1}', attempt=claim.attempt, audit=_record("PO-1"))

    assert kept is True
    stored = store.idempotency.find("jwt:ana", "k1")
    assert stored is not None and (stored.state, stored.status_code, stored.body) == ("done", 202, '{"ok":1}')
    assert [(e.record_id, e.seq) for e in store.audit.query()] == [("PO-1", 1)]
    assert store.audit.verify().ok


def test_a_fenced_off_holder_is_still_audited_but_does_not_overwrite_the_answer(store: Store) -> None:
    claim = _claim(store, "k2")

    kept = store.idempotency.complete("jwt:ana", "k2", 202, "late", attempt=claim.attempt + 1, audit=_record("PO-2"))

    assert kept is False  # the request was made: its entry is written; the claim is not its own any more
    stored = store.idempotency.find("jwt:ana", "k2")
    assert stored is not None and stored.state == "in_flight"
    assert [e.record_id for e in store.audit.query()] == ["PO-2"]


def test_when_the_audit_entry_fails_the_answer_is_not_kept(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    claim = _claim(store, "k3")

    def unavailable(self: AuditTrail, session: Any, record: AuditRecord) -> Any:
        raise RuntimeError("the audit table is unavailable")

    monkeypatch.setattr(AuditTrail, "add_in", unavailable)
    with pytest.raises(RuntimeError):
        store.idempotency.complete("jwt:ana", "k3", 202, "{}", attempt=claim.attempt, audit=_record("PO-3"))

    stored = store.idempotency.find("jwt:ana", "k3")
    assert stored is not None and stored.state == "in_flight"


def test_threads_of_one_process_append_without_colliding_on_a_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each collision costs a rollback and a retry (and, in the file, SQLite's sleeping busy
    handler); queued on the process's one connection, no append has to start over."""
    attempts: list[str] = []
    add_in = AuditTrail.add_in

    def counted(self: AuditTrail, session: Any, record: AuditRecord) -> Any:
        attempts.append(record.record_id)
        return add_in(self, session, record)

    monkeypatch.setattr(AuditTrail, "add_in", counted)
    with Store(f"sqlite:///{tmp_path / 'store.sqlite'}") as store, ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda i: store.audit.append(_record(f"PO-{i}")), range(200)))

        assert len(attempts) == 200
        report = store.audit.verify()
        assert report.ok and report.entries == 200
