"""Sync runs in the store: the plan replaced on retry, outcomes per row, the summary, the report."""

from __future__ import annotations

from domain.master_data.summary import DriftRow, SyncSummary
from store import Store


def row(record: str, field: str, batch: int, action: str = "correct") -> DriftRow:
    return DriftRow(record=record, system="erp", local_id=f"SUP-{record}", field=field, before="a", surviving="b",
                    rule="authority:vendor_management", action=action, batch=batch)  # fmt: skip


def test_a_retried_plan_replaces_the_rows_and_keeps_the_run(store: Store) -> None:
    store.syncs.save_plan("sync-1", "suppliers", False, [row("1", "legal_name", 0), row("2", "legal_name", 0)])
    first = store.syncs.get("sync-1")
    store.syncs.save_plan("sync-1", "suppliers", False, [row("1", "legal_name", 0), row("3", "status", 1)])

    assert store.syncs.get("sync-1") == first
    assert [(r.record, r.batch) for r in store.syncs.drift_rows("sync-1")] == [("1", 0), ("3", 1)]


def test_outcomes_are_recorded_per_row_and_the_summary_at_the_end(store: Store) -> None:
    store.syncs.save_plan("sync-2", "items", True, [row("1", "gtin", 0), row("2", "gtin", 1, "conflict")])
    ((seq, planned),) = store.syncs.batch("sync-2", 1)
    assert planned.action == "conflict"
    store.syncs.record_outcomes("sync-2", {seq: "task master-data-conflict-x"})
    store.syncs.finish("sync-2", SyncSummary(entity="items", dry_run=True, matched=2, in_sync=1))

    run = store.syncs.get("sync-2")
    assert run is not None and run.summary is not None and run.finished_at is not None
    assert (run.entity, run.dry_run, run.summary.accuracy) == ("items", True, 0.5)
    assert store.syncs.drift_rows("sync-2")[1].outcome == "task master-data-conflict-x"
    assert [r.sync_id for r in store.syncs.latest("items")] == ["sync-2"]
    assert store.syncs.get("nope") is None
