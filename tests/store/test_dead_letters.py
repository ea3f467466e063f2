"""Dead letters: kept with their reason and payload, listed newest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.events import DeadLetter
from store import Store


def test_a_dead_letter_round_trips_with_id_and_aware_created_at(store: Store) -> None:
    payload = {"segments": [{"id": "BEG", "elements": ["00", "SA", "PO-1"]}], "meta": {"line": 3, "ok": False}}
    letter = DeadLetter(source="x12-850", record_key="PO-1", reason="missing N1 segment", payload=payload)

    added = store.add_dead_letter(letter)

    assert added.id is not None
    assert added.created_at is not None and added.created_at.utcoffset() == timedelta(0)
    assert added.model_dump(exclude={"id", "created_at"}) == letter.model_dump(exclude={"id", "created_at"})
    assert store.list_dead_letters() == [added]


def test_dead_letters_are_listed_newest_first_and_filtered_by_source(store: Store) -> None:
    start = datetime(2025, 5, 1, tzinfo=UTC)
    for number, source in enumerate(["item-file", "x12-850", "item-file"]):
        store.add_dead_letter(
            DeadLetter(
                source=source,
                record_key=f"R-{number}",
                reason="invalid GTIN",
                created_at=start + timedelta(minutes=number),
            )
        )

    assert [d.record_key for d in store.list_dead_letters()] == ["R-2", "R-1", "R-0"]
    assert [d.record_key for d in store.list_dead_letters(source="item-file")] == ["R-2", "R-0"]
    assert [d.record_key for d in store.list_dead_letters(limit=1, offset=1)] == ["R-1"]
    assert store.list_dead_letters(source="nothing") == []
