"""Idempotency records of the API, per principal and key.

`acquire` (and `claim`) is the atomic first step: it inserts an `in_flight` record or returns the existing one,
so of two concurrent requests with one key exactly one runs. `complete` stores the response;
`release` drops a claim whose request failed with a server error, so a retry can run again.
Records expire after the retention the API publishes; expired ones are purged on claim.

An `in_flight` claim holds a lease: the request's own time limit. A process killed mid-request
never completes or releases its claim; once the lease ran out, a retry with the same body takes
the claim over (one compare-and-set UPDATE on `attempt`: exactly one winner under concurrency, on
SQLite and PostgreSQL) and runs the request again, which is safe because every process is
idempotent at the workflow (its id is the business key). `attempt` fences the holders: a slow
first holder that finishes after a takeover can neither overwrite nor drop the new claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.audit import AuditRecord
from store.audit import AuditTrail
from store.models import IdempotencyRow, utcnow

DEFAULT_LEASE = timedelta(seconds=60)
_CLAIM_ATTEMPTS = 3

# The statements of every request (claim, answer), built once with bound parameters: built per
# call with the values embedded, SQLAlchemy's statement construction and cache keys cost more CPU
# than the API's Temporal start (bench/api.py).
_ROWS = cast(Table, IdempotencyRow.__table__)
_THIS_KEY = (_ROWS.c.principal == bindparam("b_principal"), _ROWS.c.key == bindparam("b_key"))
_PURGE_EXPIRED_KEY = delete(_ROWS).where(*_THIS_KEY, _ROWS.c.expires_at < bindparam("b_now"))
_CLAIM = insert(_ROWS)  # a Core INSERT, the values given at execution: no ORM unit of work
_ANSWER: dict[str, Any] = {
    "state": "done",
    "status_code": bindparam("b_status"),
    "response_body": bindparam("b_body"),
    "lease_expires_at": None,
}
_STORE_ANSWER = update(_ROWS).where(*_THIS_KEY).values(_ANSWER)
_STORE_ANSWER_OF_CLAIM = update(_ROWS).where(*_THIS_KEY, _ROWS.c.attempt == bindparam("b_attempt")).values(_ANSWER)


@dataclass(frozen=True)
class StoredResponse:
    request_hash: str
    state: str
    status_code: int | None
    body: str | None
    lease_expires_at: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """This caller holds the key: run the request, then `complete` or `release` with `attempt`."""

    attempt: int
    taken_over: bool = False


def _stored(row: IdempotencyRow) -> StoredResponse:
    return StoredResponse(row.request_hash, row.state, row.status_code, row.response_body, row.lease_expires_at)


class IdempotencyRecords:
    def __init__(self, sessions: sessionmaker[Session], audit: AuditTrail) -> None:
        self._sessions = sessions
        self._audit = audit

    def claim(
        self,
        principal: str,
        key: str,
        *,
        method: str,
        path: str,
        request_hash: str,
        retention: timedelta,
        lease: timedelta = DEFAULT_LEASE,
    ) -> StoredResponse | None:
        """None when this call claimed the key (run the request); the existing record otherwise.
        `acquire` is the same with the fencing token the API completes or releases with."""
        acquired = self.acquire(
            principal, key, method=method, path=path, request_hash=request_hash, retention=retention, lease=lease
        )
        return None if isinstance(acquired, Claim) else acquired

    def acquire(
        self,
        principal: str,
        key: str,
        *,
        method: str,
        path: str,
        request_hash: str,
        retention: timedelta,
        lease: timedelta = DEFAULT_LEASE,
    ) -> Claim | StoredResponse:
        """A `Claim` when this call holds the key (run the request); the existing record otherwise."""
        for _ in range(_CLAIM_ATTEMPTS):
            now = utcnow()
            try:
                with self._sessions.begin() as session:  # one transaction: purge an expired record, insert
                    self._purge_key_in(session, principal, key, now)
                    session.execute(
                        _CLAIM,
                        {
                            "principal": principal,
                            "key": key,
                            "method": method,
                            "path": path,
                            "request_hash": request_hash,
                            "state": "in_flight",
                            "attempt": 1,
                            "created_at": now,
                            "expires_at": now + retention,
                            "lease_expires_at": now + lease,
                        },
                    )
                return Claim(attempt=1)
            except IntegrityError:
                pass
            with self._sessions() as session:
                row = session.get(IdempotencyRow, (principal, key))
                found = (_stored(row), row.attempt) if row is not None else None
            if found is None:  # purged in between: try to insert again
                continue
            stored, attempt = found
            if not self._expired_claim(stored, request_hash, now):
                return stored
            if self._take_over(principal, key, attempt, now, lease):
                return Claim(attempt=attempt + 1, taken_over=True)
        current = self.find(principal, key)
        return current or StoredResponse(request_hash="", state="in_flight", status_code=None, body=None)

    @staticmethod
    def _expired_claim(stored: StoredResponse, request_hash: str, now: datetime) -> bool:
        """An in-flight claim of the same request whose holder's time is up."""
        expired = stored.lease_expires_at is None or stored.lease_expires_at <= now
        return stored.state == "in_flight" and stored.request_hash == request_hash and expired

    def _take_over(self, principal: str, key: str, seen_attempt: int, now: datetime, lease: timedelta) -> bool:
        with self._sessions.begin() as session:
            result = session.execute(
                update(IdempotencyRow)
                .where(
                    IdempotencyRow.principal == principal,
                    IdempotencyRow.key == key,
                    IdempotencyRow.state == "in_flight",
                    IdempotencyRow.attempt == seen_attempt,
                    or_(IdempotencyRow.lease_expires_at.is_(None), IdempotencyRow.lease_expires_at <= now),
                )
                .values(attempt=seen_attempt + 1, lease_expires_at=now + lease)
            )
            return int(result.rowcount) == 1  # type: ignore[attr-defined]

    @staticmethod
    def _purge_key_in(session: Session, principal: str, key: str, now: datetime) -> None:
        session.execute(_PURGE_EXPIRED_KEY, {"b_principal": principal, "b_key": key, "b_now": now})

    def complete(
        self,
        principal: str,
        key: str,
        status_code: int,
        body: str,
        *,
        attempt: int | None = None,
        audit: AuditRecord | None = None,
    ) -> bool:
        """Store the response; with `attempt`, only while that claim still holds the key. With
        `audit`, the request's audit entry is appended in the same transaction (one commit, and
        an answer is never recorded without its entry), whether or not the claim still held."""

        statement = _STORE_ANSWER if attempt is None else _STORE_ANSWER_OF_CLAIM
        parameters = {
            "b_principal": principal,
            "b_key": key,
            "b_status": status_code,
            "b_body": body,
            "b_attempt": attempt,
        }

        def store_response(session: Session) -> bool:  # one UPDATE, no read first
            return int(session.execute(statement, parameters).rowcount) == 1  # type: ignore[attr-defined]

        if audit is not None:
            return self._audit.append_with(audit, store_response)[1]
        with self._sessions.begin() as session:
            return store_response(session)

    def release(self, principal: str, key: str, *, attempt: int | None = None) -> bool:
        """Forget the claim (its request failed); with `attempt`, only while that claim holds the key."""
        conditions = [IdempotencyRow.principal == principal, IdempotencyRow.key == key]
        if attempt is not None:
            conditions += [IdempotencyRow.attempt == attempt, IdempotencyRow.state == "in_flight"]
        with self._sessions.begin() as session:
            return int(session.execute(delete(IdempotencyRow).where(*conditions)).rowcount) > 0  # type: ignore[attr-defined]

    def purge_expired(self) -> int:
        with self._sessions.begin() as session:
            result = session.execute(delete(IdempotencyRow).where(IdempotencyRow.expires_at < utcnow()))
            return int(result.rowcount)  # type: ignore[attr-defined]

    def find(self, principal: str, key: str) -> StoredResponse | None:
        with self._sessions() as session:
            row = session.scalars(
                select(IdempotencyRow).where(IdempotencyRow.principal == principal, IdempotencyRow.key == key)
            ).first()
            return _stored(row) if row else None
