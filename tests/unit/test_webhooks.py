"""Webhook signatures: body and timestamp are signed; tampering, replays and garbage are refused, and a
signature is taken once within its window."""

from __future__ import annotations

from runtime.webhooks import SeenSignatures, sign, verify

BODY = b'{"event_id": "evt-1"}'


def test_a_good_signature_verifies() -> None:
    assert verify("s3cret", BODY, sign("s3cret", BODY, 1000), now=1010) is None


def test_refusals_say_why() -> None:
    header = sign("s3cret", BODY, 1000)
    assert "missing" in (verify("s3cret", BODY, None) or "")
    assert "not of the form" in (verify("s3cret", BODY, "sha256=abc") or "")
    assert "does not match" in (verify("other", BODY, header, now=1000) or "")
    assert "does not match" in (verify("s3cret", BODY + b" ", header, now=1000) or "")
    assert "window" in (verify("s3cret", BODY, header, now=1000 + 301) or "")


def test_a_signature_is_claimed_once_within_its_window() -> None:
    seen = SeenSignatures(tolerance=300)
    header = sign("s3cret", BODY, 1000)
    assert seen.claim(header, now=1000) is True
    assert seen.claim(header, now=1299) is False
    assert seen.claim(sign("s3cret", BODY, 1001), now=1001) is True  # the sender's retry signs anew
    assert seen.claim(header, now=1301) is True  # out of the window: `verify` refuses it by then anyway


def test_a_released_claim_can_be_taken_again() -> None:
    seen = SeenSignatures()
    header = sign("s3cret", BODY, 1000)
    assert seen.claim(header, now=1000)
    seen.release(header)
    assert seen.claim(header, now=1001)


def test_memory_is_bounded_and_old_entries_expire() -> None:
    seen = SeenSignatures(tolerance=300, max_entries=3)
    for i in range(5):
        assert seen.claim(sign("s3cret", BODY + str(i).encode(), 1000 + i), now=1000 + i)
    assert len(seen) == 3
    seen.claim(sign("s3cret", b"later", 2000), now=2000)
    assert len(seen) == 1
