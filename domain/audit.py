"""The audit trail: who did what, when, to which record; append-only and hash-chained.

Each entry carries the hash of the one before it (`prev_hash`) and its own `hash` over its
content and `prev_hash`, so altering, removing or reordering any entry breaks the chain from
that entry on; `verify_chain` reports the first broken link. Sensitive values (tax ids, bank
and account numbers, secrets) are masked before an entry is written: they never enter the
audit text in clear.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import Field

from domain.base import DomainModel

GENESIS = "0" * 64
SENSITIVE_KEYS = frozenset(
    {
        "tax_id",
        "bank_account",
        "account_number",
        "routing_number",
        "iban",
        "ssn",
        "password",
        "secret",
        "client_secret",
        "token",
        "api_key",
        "authorization",
    }
)


def mask_value(value: object) -> str:
    text = str(value)
    return f"•••{text[-4:]}" if len(text) > 4 else "••••"


def mask_sensitive(data: Any, *, inside: bool = False) -> Any:
    """A JSON-ready copy of `data` with every value under a sensitive key masked (last 4 kept)."""
    if isinstance(data, dict):
        return {key: mask_sensitive(value, inside=inside or str(key).lower() in SENSITIVE_KEYS)
                for key, value in data.items()}  # fmt: skip
    if isinstance(data, list | tuple):
        return [mask_sensitive(item, inside=inside) for item in data]
    if inside and data not in (None, ""):
        return mask_value(data)
    return data if data is None or isinstance(data, bool | int | float | str) else str(data)


class AuditRecord(DomainModel):
    """What to audit; the trail assigns `seq`, the hashes and (by default) the time."""

    actor: str = Field(min_length=1, max_length=200, description="principal subject, or workflow:<id>")
    action: str = Field(min_length=1, max_length=120, description="e.g. purchase_order.submitted")
    record_type: str = Field(min_length=1, max_length=60)
    record_id: str = Field(min_length=1, max_length=255)
    outcome: str | None = Field(default=None, max_length=120)
    details: dict[str, Any] = Field(default_factory=dict)
    at: datetime | None = None


class AuditEntry(DomainModel):
    seq: int
    at: datetime
    actor: str
    action: str
    record_type: str
    record_id: str
    outcome: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    record_type: str,
    record_id: str,
    outcome: str | None,
    details: dict[str, Any],
    prev_hash: str,
) -> str:
    content = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        "outcome": outcome,
        "details": details,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hash_of(entry: AuditEntry) -> str:
    return entry_hash(**entry.model_dump(exclude={"hash"}))


class ChainReport(DomainModel):
    ok: bool
    entries: int
    first_broken_seq: int | None = None
    reason: str | None = None


def verify_chain(entries: Iterable[AuditEntry]) -> ChainReport:
    """Walk the entries in `seq` order: each must follow the previous one, link to its hash and
    hash to itself."""
    previous = GENESIS
    expected_seq: int | None = None
    count = 0
    for entry in entries:
        count += 1
        if expected_seq is not None and entry.seq != expected_seq:
            reason = f"entry {expected_seq} is missing"
        elif entry.prev_hash != previous:
            reason = "prev_hash does not link to the entry before"
        elif hash_of(entry) != entry.hash:
            reason = "the entry's content does not match its hash"
        else:
            previous = entry.hash
            expected_seq = entry.seq + 1
            continue
        return ChainReport(ok=False, entries=count, first_broken_seq=entry.seq, reason=reason)
    return ChainReport(ok=True, entries=count)
