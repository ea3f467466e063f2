"""Master-data sync runs in the store: the plan a sync computed (its drift rows, in batches), what
each batch did, and the summary. A retried planning step replaces its rows in one transaction;
a retried batch finds the outcomes already recorded and writes the same ones again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from domain.master_data.summary import DriftRow, SyncSummary
from store.models import MasterDataDriftRow, MasterDataSyncRow, utcnow


@dataclass(frozen=True)
class SyncRun:
    sync_id: str
    entity: str
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None
    summary: SyncSummary | None


class SyncRecords:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def save_plan(self, sync_id: str, entity: str, dry_run: bool, rows: Sequence[DriftRow]) -> None:
        """Record the run (once) and replace its drift rows with `rows`."""
        with self._sessions.begin() as session:
            if session.get(MasterDataSyncRow, sync_id) is None:
                session.add(MasterDataSyncRow(sync_id=sync_id, entity=entity, dry_run=dry_run, started_at=utcnow()))
            session.execute(delete(MasterDataDriftRow).where(MasterDataDriftRow.sync_id == sync_id))
            session.add_all(
                MasterDataDriftRow(
                    sync_id=sync_id, seq=seq, batch=row.batch, row=row.model_dump(mode="json"), outcome=row.outcome
                )
                for seq, row in enumerate(rows)
            )

    def batch(self, sync_id: str, batch: int) -> list[tuple[int, DriftRow]]:
        """The rows of one batch with their sequence numbers (to record outcomes by)."""
        query = (
            select(MasterDataDriftRow)
            .where(MasterDataDriftRow.sync_id == sync_id, MasterDataDriftRow.batch == batch)
            .order_by(MasterDataDriftRow.seq)
        )
        with self._sessions() as session:
            return [(r.seq, _drift(r)) for r in session.scalars(query)]

    def record_outcomes(self, sync_id: str, outcomes: dict[int, str]) -> None:
        with self._sessions.begin() as session:
            for seq, outcome in outcomes.items():
                session.execute(
                    update(MasterDataDriftRow)
                    .where(MasterDataDriftRow.sync_id == sync_id, MasterDataDriftRow.seq == seq)
                    .values(outcome=outcome)
                )

    def finish(self, sync_id: str, summary: SyncSummary) -> None:
        with self._sessions.begin() as session:
            session.execute(
                update(MasterDataSyncRow)
                .where(MasterDataSyncRow.sync_id == sync_id)
                .values(summary=summary.model_dump(mode="json"), finished_at=utcnow())
            )

    def get(self, sync_id: str) -> SyncRun | None:
        with self._sessions() as session:
            row = session.get(MasterDataSyncRow, sync_id)
            return _run(row) if row is not None else None

    def drift_rows(self, sync_id: str) -> list[DriftRow]:
        query = select(MasterDataDriftRow).where(MasterDataDriftRow.sync_id == sync_id).order_by(MasterDataDriftRow.seq)
        with self._sessions() as session:
            return [_drift(r) for r in session.scalars(query)]

    def latest(self, entity: str | None = None, limit: int = 20) -> list[SyncRun]:
        query = select(MasterDataSyncRow).order_by(MasterDataSyncRow.started_at.desc()).limit(limit)
        if entity is not None:
            query = query.where(MasterDataSyncRow.entity == entity)
        with self._sessions() as session:
            return [_run(r) for r in session.scalars(query)]


def _drift(row: MasterDataDriftRow) -> DriftRow:
    return DriftRow.model_validate({**row.row, "outcome": row.outcome})


def _run(row: MasterDataSyncRow) -> SyncRun:
    summary = SyncSummary.model_validate(row.summary) if row.summary is not None else None
    return SyncRun(row.sync_id, row.entity, row.dry_run, row.started_at, row.finished_at, summary)
