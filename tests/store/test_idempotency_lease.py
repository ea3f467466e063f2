"""An in-flight idempotency claim holds a lease: after it, a retry takes the claim over (one
winner under concurrency), and the first holder can no longer complete or drop it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import update

from store import Store
from store.idempotency import Claim, StoredResponse
from store.models import IdempotencyRow

RETENTION = timedelta(hours=24)
EXPIRED = timedelta(0)  # a lease that is over as soon as it is granted: the holder "died"


def _claim(store: Store, key: str = "po-451", body: str = "h1", lease: timedelta = timedelta(minutes=1)) -> object:
    return store.idempotency.acquire(
        "jwt:ana", key, method="POST", path="/v1/purchase-orders", request_hash=body, retention=RETENTION, lease=lease
    )


def test_a_live_claim_is_reported_in_flight_with_its_lease(store: Store) -> None:
    assert _claim(store) == Claim(attempt=1)
    busy = _claim(store)
    assert isinstance(busy, StoredResponse) and busy.state == "in_flight" and busy.lease_expires_at is not None


def test_an_expired_claim_is_taken_over_and_fences_the_first_holder(store: Store) -> None:
    assert _claim(store, lease=EXPIRED) == Claim(attempt=1)
    retry = _claim(store)
    assert retry == Claim(attempt=2, taken_over=True)

    assert store.idempotency.complete("jwt:ana", "po-451", 202, '{"late": true}', attempt=1) is False
    assert store.idempotency.release("jwt:ana", "po-451", attempt=1) is False
    assert store.idempotency.complete("jwt:ana", "po-451", 202, '{"ok": true}', attempt=2) is True
    done = _claim(store)
    assert isinstance(done, StoredResponse) and (done.state, done.status_code, done.body) == (
        "done",
        202,
        '{"ok": true}',
    )


def test_an_expired_claim_of_another_body_is_not_taken_over(store: Store) -> None:
    _claim(store, lease=EXPIRED)
    other = _claim(store, body="h2")
    assert isinstance(other, StoredResponse) and other.state == "in_flight" and other.request_hash == "h1"


def test_a_claim_made_before_leases_existed_counts_as_expired(store: Store) -> None:
    _claim(store)
    with store._sessions.begin() as session:
        session.execute(update(IdempotencyRow).values(lease_expires_at=None))
    assert _claim(store) == Claim(attempt=2, taken_over=True)


def test_a_released_claim_can_be_claimed_again(store: Store) -> None:
    first = _claim(store)
    assert isinstance(first, Claim) and store.idempotency.release("jwt:ana", "po-451", attempt=first.attempt)
    assert _claim(store) == Claim(attempt=1)


def test_concurrent_retries_after_expiry_have_exactly_one_winner(store: Store) -> None:
    for key in ("k1", "k2", "k3"):
        _claim(store, key=key, lease=EXPIRED)
    start = threading.Barrier(8)

    def retry(key: str) -> object:
        start.wait(timeout=30)
        return _claim(store, key=key)

    for key in ("k1", "k2", "k3"):
        start.reset()
        with ThreadPoolExecutor(max_workers=8) as pool:
            outcomes = list(pool.map(retry, [key] * 8))
        winners = [o for o in outcomes if isinstance(o, Claim)]
        assert winners == [Claim(attempt=2, taken_over=True)], outcomes
        assert all(isinstance(o, StoredResponse) and o.state == "in_flight" for o in outcomes if o not in winners)
