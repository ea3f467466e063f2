"""Idempotency records of the API, per principal and key.

`claim` is the atomic first step: it inserts an `in_flight` record or returns the existing one,
so of two concurrent requests with one key exactly one runs. `complete` stores the response;
`release` drops a claim whose request failed with a server error, so a retry can run again.
Records expire after the retention the API publishes; expired ones are purged on claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store.models import IdempotencyRow, utcnow


@dataclass(frozen=True)
class StoredResponse:
    request_hash: str
    state: str
    status_code: int | None
    body: str | None


class IdempotencyRecords:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def claim(
        self, principal: str, key: str, *, method: str, path: str, request_hash: str, retention: timedelta
    ) -> StoredResponse | None:
        """None when this call claimed the key (run the request); the existing record otherwise."""
        now = utcnow()
        with self._sessions.begin() as session:
            session.execute(
                delete(IdempotencyRow).where(
                    IdempotencyRow.principal == principal, IdempotencyRow.key == key, IdempotencyRow.expires_at < now
                )
            )
        try:
            with self._sessions.begin() as session:
                session.add(
                    IdempotencyRow(
                        principal=principal,
                        key=key,
                        method=method,
                        path=path,
                        request_hash=request_hash,
                        state="in_flight",
                        created_at=now,
                        expires_at=now + retention,
                    )
                )
            return None
        except IntegrityError:
            with self._sessions() as session:
                row = session.get(IdempotencyRow, (principal, key))
                if row is None:  # expired and purged in between: treat as claimed by someone else
                    return StoredResponse(request_hash="", state="in_flight", status_code=None, body=None)
                return StoredResponse(row.request_hash, row.state, row.status_code, row.response_body)

    def complete(self, principal: str, key: str, status_code: int, body: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(IdempotencyRow, (principal, key))
            if row is not None:
                row.state, row.status_code, row.response_body = "done", status_code, body

    def release(self, principal: str, key: str) -> None:
        with self._sessions.begin() as session:
            session.execute(
                delete(IdempotencyRow).where(IdempotencyRow.principal == principal, IdempotencyRow.key == key)
            )

    def purge_expired(self) -> int:
        with self._sessions.begin() as session:
            result = session.execute(delete(IdempotencyRow).where(IdempotencyRow.expires_at < utcnow()))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def find(self, principal: str, key: str) -> StoredResponse | None:
        with self._sessions() as session:
            row = session.scalars(
                select(IdempotencyRow).where(IdempotencyRow.principal == principal, IdempotencyRow.key == key)
            ).first()
            return StoredResponse(row.request_hash, row.state, row.status_code, row.response_body) if row else None
