"""Business events: recorded once per event_id, listed newest first, times stay aware."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

from domain.events import BusinessEvent
from store import Store

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def _event(event_id: str, *, type: str = "supplier.onboarded", subject: str = "V-1", minutes: int = 0) -> BusinessEvent:
    return BusinessEvent(
        event_id=event_id,
        type=type,
        subject=subject,
        workflow_id=f"supplier-onboarding-{subject}",
        occurred_at=T0 + timedelta(minutes=minutes),
        data={"minutes": minutes},
    )


def test_the_same_event_id_is_recorded_once(store: Store) -> None:
    first = _event("evt-1")
    retry = first.model_copy(update={"subject": "V-other", "data": {"changed": True}})

    assert store.append_event(first) is True
    assert store.append_event(retry) is False

    assert store.list_events() == [first]


def test_concurrent_retries_of_one_event_record_it_once(store: Store) -> None:
    event = _event("evt-race")

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(store.append_event, [event] * 8))

    assert sorted(outcomes) == [False] * 7 + [True]
    assert store.list_events() == [event]


def test_events_are_listed_newest_first_and_filtered(store: Store) -> None:
    store.append_event(_event("a", minutes=0))
    store.append_event(_event("c", type="supplier.hold_placed", minutes=20))
    store.append_event(_event("b", subject="V-2", minutes=10))
    store.append_event(_event("d", type="supplier.hold_placed", subject="V-2", minutes=30))

    assert [e.event_id for e in store.list_events()] == ["d", "c", "b", "a"]
    assert [e.event_id for e in store.list_events(type="supplier.hold_placed")] == ["d", "c"]
    assert [e.event_id for e in store.list_events(subject="V-2")] == ["d", "b"]
    assert [e.event_id for e in store.list_events(type="supplier.onboarded", subject="V-1")] == ["a"]
    assert [e.event_id for e in store.list_events(limit=2, offset=1)] == ["c", "b"]
    assert store.list_events(type="po.acknowledged") == []


def test_occurred_at_comes_back_aware_and_ordered_across_offsets(store: Store) -> None:
    eastern = timezone(timedelta(hours=-5))
    # 09:30 at UTC-5 is 14:30 UTC: later than 12:00 UTC even though its wall clock is earlier.
    later = _event("later").model_copy(update={"occurred_at": datetime(2025, 5, 1, 9, 30, tzinfo=eastern)})
    earlier = _event("earlier").model_copy(update={"occurred_at": datetime(2025, 5, 1, 12, 0, tzinfo=UTC)})
    store.append_event(later)
    store.append_event(earlier)

    listed = store.list_events()

    assert [e.event_id for e in listed] == ["later", "earlier"]
    assert all(e.occurred_at.utcoffset() == timedelta(0) for e in listed)
    assert listed[0].occurred_at == later.occurred_at


def test_a_naive_occurred_at_is_taken_as_utc(store: Store) -> None:
    store.append_event(_event("naive").model_copy(update={"occurred_at": datetime(2025, 5, 1, 8, 0)}))

    (stored,) = store.list_events()

    assert stored.occurred_at == datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


def test_nested_event_data_round_trips(store: Store) -> None:
    data = {
        "supplier": {"name": "Acme Medical", "sites": [{"gln": "0614141000012", "active": True}]},
        "amounts": [1, 2.5, None],
        "checked_at": datetime(2025, 5, 1, 9, 0, tzinfo=UTC),
    }
    store.append_event(_event("nested").model_copy(update={"data": data}))

    (stored,) = store.list_events()

    assert stored.data == {**data, "checked_at": "2025-05-01T09:00:00Z"}
