"""Master-data sync activities: plan (read every system page by page, match, reconcile, store the
drift rows in batches), apply one batch of corrections, and finish (the summary from what the
batches did). The records never pass through the workflow: the plan lives in the store.

Each write carries an idempotency key made of the sync id, the system and the record, so a
retried batch writes nothing twice. A system that refuses one record's change (a business error)
marks that row `failed: <reason>` and the batch goes on: one bad record never stops the others.
A system that is down (a transient error) fails the activity, which Temporal retries.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from activities.errors import translate_adapter_errors
from adapters.errors import BusinessRuleError
from adapters.master_data import MasterDataPort
from adapters.status_events import StatusEventsPort
from adapters.store import StorePort, SyncRecordsPort
from domain.events import CrossReference, VendorStatusEvent
from domain.master_data.matching import SystemRecord, match_records
from domain.master_data.policy import Entity, EntityPolicy, MasterSystem, SurvivorshipPolicy
from domain.master_data.summary import WHOLE_RECORD, DriftRow, SyncSummary, drift_counts, drift_rows, summarise
from domain.master_data.survivorship import Action, Reconciliation, reconcile
from domain.master_data.sync import (
    STATUS_SYNC_BATCH,
    ApplyBatchInput,
    ApplyConflictInput,
    BatchOutcome,
    ConflictFound,
    DeliverStatusInput,
    FinishSyncInput,
    PlanSyncInput,
    StatusCorrection,
    SyncPlan,
    conflict_workflow_id,
)
from domain.supplier import VendorStatus

MATCH_KEYS: dict[Entity, tuple[str, ...]] = {Entity.SUPPLIERS: ("tax_id",), Entity.ITEMS: ("item_id", "gtin"),
                                              Entity.CONTRACTS: ("contract_id",)}  # fmt: skip
HEARTBEAT_EVERY = 500
REPLACED_WHOLE = (MasterSystem.ANALYTICS,)  # systems that take the golden record as a whole row


class MasterDataActivities:
    def __init__(
        self,
        *,
        systems: list[MasterDataPort],
        policy: SurvivorshipPolicy,
        syncs: SyncRecordsPort,
        store: StorePort,
        status_events: StatusEventsPort,
    ) -> None:
        self._status_events = status_events
        self._systems = {port.system: port for port in systems}
        self._policy = policy
        self._syncs = syncs
        self._store = store

    @activity.defn(name="plan_master_data_sync")
    @translate_adapter_errors
    async def plan_sync(self, params: PlanSyncInput) -> SyncPlan:
        policy = self._policy.entities[params.entity]
        read: dict[str, int] = {}
        records: list[SystemRecord] = []
        for system, port in self._systems.items():
            if not port.holds(params.entity):
                continue
            read[system.value] = 0
            async for record in port.read(params.entity):
                records.append(record)
                read[system.value] += 1
                if len(records) % HEARTBEAT_EVERY == 0:
                    activity.heartbeat(f"read {len(records)} records")
        matches = match_records(records, [], MATCH_KEYS[params.entity])
        rows: list[DriftRow] = []
        results: list[Reconciliation] = []
        with_changes = 0
        corrections: list[StatusCorrection] = []
        for group in matches.groups:
            result = self._writable(params.entity, reconcile(policy, {s: r.fields for s, r in group.items()}))
            results.append(result)
            key = _record_key(group, policy)
            local_ids = {system: record.local_id for system, record in group.items()}
            batch = with_changes // params.batch_size
            found = drift_rows(key, result, local_ids, dry_run=params.dry_run, batch=batch)
            corrections += _to_status_sync(found)
            record_rows = _with_golden_rows(found, result, policy)
            if result.record_conflict is not None:
                record_rows.append(_orphan_row(key, group, result, batch))
            with_changes += any(row.applies and row.batch != STATUS_SYNC_BATCH for row in record_rows)
            rows += record_rows
        rows += [_rejected_row(rejected.records, rejected.reason) for rejected in matches.rejected]
        await asyncio.to_thread(self._syncs.save_plan, params.sync_id, params.entity.value, params.dry_run, rows)
        if not params.dry_run:
            for link in matches.new_links:
                await asyncio.to_thread(self._store.record_cross_reference, _cross_reference(params, link.a, link.b))
        summary = summarise(params.entity.value, read, matches, results, dry_run=params.dry_run)
        batches = -(-with_changes // params.batch_size) if not params.dry_run else 0
        conflicts = [_conflict(row) for row in rows if row.action == Action.CONFLICT.value]
        return SyncPlan(summary=summary, batches=batches, conflicts=conflicts, status_corrections=corrections)

    def _writable(self, entity: Entity, result: Reconciliation) -> Reconciliation:
        """A correction the system cannot take (vendor management's status, say) is kept and
        reported, not attempted: its rule says why."""
        drifts = [
            dataclasses.replace(d, action=Action.KEEP, rule=f"{d.rule}; not writable in {d.system.value}")
            if d.action in (Action.CORRECT, Action.CREATE) and not self._systems[d.system].can_write(entity, d.field)
            else d
            for d in result.drifts
        ]
        return dataclasses.replace(result, drifts=drifts)

    @activity.defn(name="apply_master_data_batch")
    @translate_adapter_errors
    async def apply_batch(self, params: ApplyBatchInput) -> BatchOutcome:
        planned = await asyncio.to_thread(self._syncs.batch, params.sync_id, params.batch)
        writes: dict[tuple[str, str, str | None], list[tuple[int, DriftRow]]] = defaultdict(list)
        for seq, row in planned:
            if row.applies and not (row.outcome or "").startswith(("corrected", "created")):
                writes[(row.record, row.system, row.local_id)].append((seq, row))
        outcome, outcomes = BatchOutcome(), dict[int, str]()
        for (record, system, local_id), changes in writes.items():
            activity.heartbeat(f"{record} in {system}")
            values = _changes(changes)
            key = f"{params.sync_id}:{system}:{local_id or record}"
            try:
                await self._systems[MasterSystem(system)].write(params.entity, record, local_id, values, key)
            except BusinessRuleError as refused:
                outcome.failed.append(f"{record} in {system}: {refused.message}")
                outcomes |= {seq: f"failed: {refused.message}" for seq, _ in changes}
                continue
            created = any(row.action == Action.CREATE.value for _, row in changes)
            outcome.created += created
            outcome.corrected += not created
            outcomes |= {seq: "created" if created else "corrected" for seq, _ in changes}
        await asyncio.to_thread(self._syncs.record_outcomes, params.sync_id, outcomes)
        return outcome

    @activity.defn(name="deliver_master_data_status_corrections")
    async def deliver_status_corrections(self, params: DeliverStatusInput) -> list[str]:
        """Each supplier's status sync is told, side by side (one event id per sync and supplier:
        a retried delivery is applied once); the vendor ids told."""
        events = [
            VendorStatusEvent(
                event_id=f"{params.sync_id}:{c.vendor_id}:status", vendor_id=c.vendor_id,
                erp_supplier_id=c.erp_supplier_id, occurred_at=datetime.now(UTC),
                status=VendorStatus.SUSPENDED if c.hold else VendorStatus.ACTIVE,
                reason="master-data sync: the ERP's status differed from vendor management's",
            )
            for c in params.corrections
        ]  # fmt: skip
        await asyncio.gather(*(self._status_events.deliver(event) for event in events))
        return [c.vendor_id for c in params.corrections]

    @activity.defn(name="apply_master_data_decision")
    @translate_adapter_errors
    async def apply_decision(self, params: ApplyConflictInput) -> str | None:
        """Write a steward's approved surviving value; the system's refusal reason, or None."""
        conflict = params.conflict
        values = dict(conflict.surviving) if conflict.field == WHOLE_RECORD and isinstance(conflict.surviving, dict) \
            else {conflict.field: conflict.surviving}  # fmt: skip
        port = self._systems[MasterSystem(conflict.system)]
        try:
            await port.write(params.entity, conflict.record, conflict.local_id, values, params.idempotency_key)
        except BusinessRuleError as refused:
            return refused.message
        return None

    @activity.defn(name="finish_master_data_sync")
    async def finish_sync(self, params: FinishSyncInput) -> SyncSummary:
        """The summary from what was done: a record with a failed write is not in sync; a conflict
        whose task was already open (an earlier run handed it to a person) is awaiting a decision,
        not drift found again."""
        rows = await asyncio.to_thread(self._syncs.drift_rows, params.sync_id)
        entity = Entity(params.planned.entity)
        earlier, tasks = set(params.already_open), {}
        for seq, row in enumerate(rows):
            if row.action == Action.CONFLICT.value and not params.planned.dry_run:
                task = conflict_workflow_id(entity, _conflict(row))
                tasks[seq] = f"awaiting decision: task {task} (opened earlier)" if task in earlier else f"task {task}"
        delivered = set(params.status_delivered)
        for seq, row in enumerate(rows):
            if row.batch == STATUS_SYNC_BATCH and row.applies and row.record in delivered:
                tasks[seq] = row.outcome = "corrected through the status sync"
        await asyncio.to_thread(self._syncs.record_outcomes, params.sync_id, tasks)
        found = [
            row for seq, row in enumerate(rows) if row.rule != "golden_record" and "earlier" not in tasks.get(seq, "")
        ]
        outcomes = [row.outcome or "" for row in found]
        failed_records = {row.record for row in rows if (row.outcome or "").startswith("failed")}
        summary = params.planned.model_copy(
            update={
                "drifted": drift_counts(found),
                "conflicts": sum(row.action == Action.CONFLICT.value for row in found),
                "corrected": sum(o.startswith("corrected") for o in outcomes),
                "created": sum(o == "created" for o in outcomes),
                "in_sync": params.planned.in_sync - (0 if params.planned.dry_run else len(failed_records)),
                "failed": sorted(failed_records),
                "duration_seconds": params.duration_seconds,
            }
        )
        await asyncio.to_thread(self._syncs.finish, params.sync_id, summary)
        return summary


def _record_key(group: dict[MasterSystem, SystemRecord], policy: EntityPolicy) -> str:
    record = group.get(policy.system_of_record) or next(iter(group.values()))
    return record.local_id if record.system is policy.system_of_record else f"{record.system.value}:{record.local_id}"


def _with_golden_rows(rows: list[DriftRow], result: Reconciliation, policy: EntityPolicy) -> list[DriftRow]:
    """A system that takes whole rows (analytics) is written the golden record as a whole: its
    create row carries it, or one more row (field `*`, rule `golden_record`) does beside the
    per-field rows that the report lists."""
    for system in REPLACED_WHOLE:
        mine = [r for r in rows if r.system == system.value and (r.applies or r.action.startswith("would "))]
        if not mine:
            continue
        golden = {name: value for name, value in result.golden_values(policy.fields).items()
                  if system in policy.fields[name].systems}  # fmt: skip
        creating = [r for r in mine if r.field == WHOLE_RECORD]
        if creating:
            creating[0].surviving = golden
        else:
            whole = {"field": WHOLE_RECORD, "before": None, "surviving": golden, "rule": "golden_record"}
            rows.append(mine[0].model_copy(update=whole))
    return rows


def _changes(rows: list[tuple[int, DriftRow]]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for _, row in rows:
        if row.field == WHOLE_RECORD:
            values |= dict(row.surviving or {})
        else:
            values[row.field] = row.surviving
    return values


def _orphan_row(key: str, group: dict[MasterSystem, SystemRecord], result: Reconciliation, batch: int) -> DriftRow:
    record = next(iter(group.values()))
    return DriftRow(record=key, system=record.system.value, local_id=record.local_id, field=WHOLE_RECORD,
                    rule="system_of_record", action=Action.CONFLICT.value, batch=batch,
                    conflict=str(result.record_conflict))  # fmt: skip


def _to_status_sync(rows: list[DriftRow]) -> list[StatusCorrection]:
    """The ERP status rows that the supplier's status sync applies (hold or release, with the
    supplier's open POs), moved out of the write batches."""
    corrections = []
    for row in rows:
        if row.system == MasterSystem.ERP.value and row.field == "status" and row.applies and row.local_id \
                and row.surviving in ("hold", "active"):  # fmt: skip
            row.batch = STATUS_SYNC_BATCH
            corrections.append(StatusCorrection(vendor_id=row.record, erp_supplier_id=row.local_id,
                                                hold=row.surviving == "hold"))  # fmt: skip
    return corrections


def _rejected_row(records: tuple[tuple[MasterSystem, str], ...], reason: str) -> DriftRow:
    """A group matching would not merge (two records of one system): a person decides."""
    names = [f"{system.value}:{local_id}" for system, local_id in records]
    return DriftRow(record=names[0], system="matching", field=WHOLE_RECORD, before=names, rule="matching",
                    action=Action.CONFLICT.value, conflict=f"rejected: {reason}")  # fmt: skip


def _conflict(row: DriftRow) -> ConflictFound:
    fields = row.model_dump(
        include={"record", "system", "local_id", "field", "before", "surviving", "rule", "sensitive"}
    )
    return ConflictFound(kind=row.conflict or "", **fields)


def _cross_reference(params: PlanSyncInput, a: tuple[MasterSystem, str], b: tuple[MasterSystem, str]) -> CrossReference:
    return CrossReference(
        entity=params.entity.value.rstrip("s"), source_system=a[0].value, source_id=a[1],
        target_system=b[0].value, target_id=b[1], workflow_id=activity.info().workflow_id,
    )  # fmt: skip
