"""HMAC-SHA256 signatures for webhooks between the vendor system and the platform.

Header: `X-SupplyBridge-Signature: t=<unix seconds>,v1=<hex hmac of "<t>.<body>">`. The
timestamp is signed too and checked against a tolerance, so a captured request cannot be
replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-SupplyBridge-Signature"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def verify(
    secret: str,
    body: bytes,
    header: str | None,
    *,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: int | None = None,
) -> str | None:
    """None when the signature is good, else the reason it is refused."""
    if not header:
        return f"the {SIGNATURE_HEADER} header is missing"
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        ts = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        return f"the {SIGNATURE_HEADER} header is not of the form t=<seconds>,v1=<hex>"
    current = int(time.time()) if now is None else now
    if abs(current - ts) > tolerance:
        return "the signature timestamp is outside the accepted window"
    expected = sign(secret, body, ts).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        return "the signature does not match the body"
    return None
