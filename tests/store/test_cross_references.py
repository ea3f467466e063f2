"""Cross-references: one id per (entity, source system, source id, target system)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.events import CrossReference
from store import Store


def _supplier(source_id: str, target_id: str, workflow_id: str | None = None) -> CrossReference:
    return CrossReference(
        entity="supplier",
        source_system="vendor-management",
        source_id=source_id,
        target_system="erp",
        target_id=target_id,
        workflow_id=workflow_id,
    )


def test_recorded_reference_is_found_by_its_key_with_an_aware_timestamp(store: Store) -> None:
    recorded = store.record_cross_reference(_supplier("V-1", "S-100", "supplier-onboarding-V-1"))

    found = store.find_cross_reference("supplier", "vendor-management", "V-1", "erp")

    assert found == recorded
    assert found is not None and found.target_id == "S-100"
    assert found.workflow_id == "supplier-onboarding-V-1"
    assert found.created_at is not None and found.created_at.tzinfo is not None
    assert store.find_cross_reference("supplier", "vendor-management", "V-1", "contracts") is None
    assert store.find_cross_reference("item", "vendor-management", "V-1", "erp") is None


def test_recording_the_same_target_again_changes_nothing(store: Store) -> None:
    first = store.record_cross_reference(_supplier("V-1", "S-100", "supplier-onboarding-V-1"))

    again = store.record_cross_reference(_supplier("V-1", "S-100", "a-retry"))

    assert again == first
    assert store.list_cross_references() == [first]


def test_recording_another_target_updates_the_reference(store: Store) -> None:
    store.record_cross_reference(_supplier("V-1", "S-100"))

    moved = store.record_cross_reference(_supplier("V-1", "S-200", "master-data-sync"))

    assert moved.target_id == "S-200" and moved.workflow_id == "master-data-sync"
    assert store.find_cross_reference("supplier", "vendor-management", "V-1", "erp") == moved
    assert store.find_by_target("supplier", "erp", "S-100") == []
    assert len(store.list_cross_references()) == 1


def test_find_by_target_returns_every_source_mapped_to_it(store: Store) -> None:
    store.record_cross_reference(_supplier("V-1", "S-100"))
    store.record_cross_reference(_supplier("V-2", "S-100"))
    store.record_cross_reference(_supplier("V-3", "S-300"))

    found = store.find_by_target("supplier", "erp", "S-100")

    assert [ref.source_id for ref in found] == ["V-1", "V-2"]
    assert store.find_by_target("item", "erp", "S-100") == []


def test_remove_reports_whether_a_reference_existed(store: Store) -> None:
    store.record_cross_reference(_supplier("V-1", "S-100"))

    assert store.remove_cross_reference("supplier", "vendor-management", "V-1", "erp") is True
    assert store.remove_cross_reference("supplier", "vendor-management", "V-1", "erp") is False
    assert store.find_cross_reference("supplier", "vendor-management", "V-1", "erp") is None


def test_listing_filters_by_entity_and_pages_in_insertion_order(store: Store) -> None:
    for number in range(5):
        store.record_cross_reference(_supplier(f"V-{number}", f"S-{number}"))
    store.record_cross_reference(
        CrossReference(
            entity="item", source_system="erp", source_id="I-1", target_system="inventory", target_id="SKU-1"
        )
    )

    assert [ref.source_id for ref in store.list_cross_references("supplier", limit=2, offset=1)] == ["V-1", "V-2"]
    assert [ref.entity for ref in store.list_cross_references("item")] == ["item"]
    assert len(store.list_cross_references()) == 6


def test_an_explicit_created_at_is_kept(store: Store) -> None:
    when = datetime(2024, 3, 1, 12, 30, tzinfo=UTC)

    recorded = store.record_cross_reference(_supplier("V-1", "S-100").model_copy(update={"created_at": when}))

    assert recorded.created_at == when


def test_bad_paging_arguments_name_the_argument(store: Store) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.list_cross_references(limit=0)
    with pytest.raises(ValueError, match="offset"):
        store.list_cross_references(offset=-1)
