"""Webhook signatures: body and timestamp are signed; tampering, replays and garbage are refused."""

from __future__ import annotations

from runtime.webhooks import sign, verify

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
