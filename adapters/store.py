"""The store as the activities see it: the few verbs they call on our own records.

`store.Store` (SQLAlchemy) satisfies this port structurally; activities depend on the port, so
importing an activity module loads no database code. The methods are synchronous, as `Store`'s
are: activities call them through `asyncio.to_thread`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.audit import AuditRecord
from domain.events import BusinessEvent, CrossReference
from domain.master_data.summary import DriftRow, SyncSummary


class StorePort(Protocol):
    def record_cross_reference(self, ref: CrossReference) -> CrossReference:
        """Insert, or point the existing (entity, source, target system) key at a new target."""
        ...

    def find_cross_reference(
        self, entity: str, source_system: str, source_id: str, target_system: str
    ) -> CrossReference | None: ...

    def remove_cross_reference(self, entity: str, source_system: str, source_id: str, target_system: str) -> bool:
        """True when a reference was removed, False when there was none."""
        ...

    def append_event(self, event: BusinessEvent, *, audit: AuditRecord | None = None) -> bool:
        """Record an event (and its audit entry, in the same transaction) once: False when its
        `event_id` is already recorded."""
        ...


class SyncRecordsPort(Protocol):
    """Master-data sync runs (`store.Store.syncs`): the plan, the outcomes, the summary."""

    def save_plan(self, sync_id: str, entity: str, dry_run: bool, rows: Sequence[DriftRow]) -> None: ...

    def batch(self, sync_id: str, batch: int) -> list[tuple[int, DriftRow]]: ...

    def record_outcomes(self, sync_id: str, outcomes: dict[int, str]) -> None: ...

    def drift_rows(self, sync_id: str) -> list[DriftRow]: ...

    def finish(self, sync_id: str, summary: SyncSummary) -> None: ...
