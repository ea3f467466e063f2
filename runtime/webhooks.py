"""HMAC-SHA256 signatures for webhooks between the vendor system and the platform.

Header: `X-SupplyBridge-Signature: t=<unix seconds>,v1=<hex hmac of "<t>.<body>">`. The
timestamp is signed too and checked against a tolerance, so a captured request cannot be
replayed later; within the tolerance, `SeenSignatures` remembers the signatures already
accepted, so it cannot be replayed sooner either.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import threading
import time

SIGNATURE_HEADER = "X-SupplyBridge-Signature"
DEFAULT_TOLERANCE_SECONDS = 300
MAX_REMEMBERED = 100_000


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


class SeenSignatures:
    """Signatures accepted within the tolerance window, in this process: `claim` answers False
    for one already claimed. Entries expire when their timestamp leaves the window (`verify`
    refuses them from then on), and at most `max_entries` are kept (the oldest forgotten first:
    only holders of the secret can make valid signatures, so this bounds memory, not an attack).
    Several API processes behind a balancer each remember their own deliveries; the workflows'
    own event-id dedupe is the durable guard behind this one."""

    def __init__(self, tolerance: int = DEFAULT_TOLERANCE_SECONDS, max_entries: int = MAX_REMEMBERED) -> None:
        self.tolerance = tolerance
        self.max_entries = max_entries
        self._expiry: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def claim(self, header: str, *, now: float | None = None) -> bool:
        """Remember a verified signature header; False if it was claimed (and not released) before."""
        ts, digest = _parts(header)
        current = time.time() if now is None else now
        with self._lock:
            self._expire(current)
            if digest in self._expiry:
                return False
            expires = ts + self.tolerance
            self._expiry[digest] = expires
            heapq.heappush(self._heap, (expires, digest))
            while len(self._expiry) > self.max_entries:
                _, oldest = heapq.heappop(self._heap)
                self._expiry.pop(oldest, None)
            return True

    def release(self, header: str) -> None:
        """Forget a claim whose delivery failed, so the sender's retry of it is taken."""
        with self._lock:
            self._expiry.pop(_parts(header)[1], None)

    def __len__(self) -> int:
        return len(self._expiry)

    def _expire(self, now: float) -> None:
        while self._heap and self._heap[0][0] < now:
            expires, digest = heapq.heappop(self._heap)
            if self._expiry.get(digest) == expires:
                del self._expiry[digest]


def _parts(header: str) -> tuple[int, str]:
    """The timestamp and digest of a header `verify` accepted."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    return int(parts["t"]), parts["v1"]
