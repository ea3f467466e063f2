"""Fakes for the master-data sync: systems that hold canonical records in memory (as the HTTP
adapters would answer them) and apply writes to them, and the store's sync records."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from adapters.errors import BusinessRuleError
from domain.master_data.matching import RecordKey, SystemRecord
from domain.master_data.policy import Entity, MasterSystem
from domain.master_data.summary import DriftRow, SyncSummary
from domain.master_data.survivorship import FieldValue


@dataclass
class FakeMasterSystem:
    system: MasterSystem
    records: dict[Entity, dict[str, SystemRecord]] = field(default_factory=dict)
    writes: list[tuple[str | None, dict[str, Any], str]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # local ids whose writes are refused

    def hold(self, entity: Entity, local_id: str, links: tuple[RecordKey, ...] = (), tax_id: str | None = None,
             **fields: Any) -> None:  # fmt: skip
        keys = {"tax_id": tax_id} if tax_id else {}
        values = {name: FieldValue(value) for name, value in fields.items()}
        self.records.setdefault(entity, {})[local_id] = SystemRecord(self.system, local_id, values, keys, links)

    def value(self, entity: Entity, local_id: str, name: str) -> Any:
        return self.records[entity][local_id].fields[name].value

    read_only: set[str] = field(default_factory=set)  # fields it cannot write

    def can_write(self, entity: Entity, field: str) -> bool:
        return field not in self.read_only

    def holds(self, entity: Entity) -> bool:
        return entity in self.records

    async def read(self, entity: Entity) -> AsyncIterator[SystemRecord]:
        for record in list(self.records.get(entity, {}).values()):
            yield record

    async def write(
        self, entity: Entity, record_key: str, local_id: str | None, changes: dict[str, Any], idempotency_key: str
    ) -> None:
        if (local_id or record_key) in self.refuse:
            raise BusinessRuleError(self.system.value, "refused", f"{local_id or record_key} is locked")
        if any(key == idempotency_key for _, _, key in self.writes):
            return
        self.writes.append((local_id, dict(changes), idempotency_key))
        held = self.records.setdefault(entity, {})
        if local_id is None:  # created under the golden record's key, linked to its system of record
            current = SystemRecord(self.system, record_key, {}, links=((MasterSystem.VENDOR_MANAGEMENT, record_key),))
        else:
            current = held[local_id]
        fields = {**current.fields, **{name: FieldValue(value) for name, value in changes.items()}}
        held[current.local_id] = replace(current, fields=fields)


@dataclass
class FakeSyncRecords:
    plans: dict[str, list[DriftRow]] = field(default_factory=dict)
    summaries: dict[str, SyncSummary] = field(default_factory=dict)

    def save_plan(self, sync_id: str, entity: str, dry_run: bool, rows: Sequence[DriftRow]) -> None:
        self.plans[sync_id] = [row.model_copy() for row in rows]

    def batch(self, sync_id: str, batch: int) -> list[tuple[int, DriftRow]]:
        return [(seq, row.model_copy()) for seq, row in enumerate(self.plans[sync_id]) if row.batch == batch]

    def record_outcomes(self, sync_id: str, outcomes: dict[int, str]) -> None:
        for seq, outcome in outcomes.items():
            self.plans[sync_id][seq].outcome = outcome

    def drift_rows(self, sync_id: str) -> list[DriftRow]:
        return [row.model_copy() for row in self.plans.get(sync_id, [])]

    def finish(self, sync_id: str, summary: SyncSummary) -> None:
        self.summaries[sync_id] = summary


def master_systems() -> dict[MasterSystem, FakeMasterSystem]:
    return {system: FakeMasterSystem(system) for system in MasterSystem}
