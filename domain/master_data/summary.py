"""What one sync did, as numbers (`SyncSummary`) and as report rows (`DriftRow`).

Sync accuracy is the share of the records the sync is responsible for that are in sync after the
run: a record in sync before, or whose every difference was corrected (or created where it was
missing). A record awaiting a person's decision (a conflict: a sensitive value that differs, two
authorities that disagree, a record its system of record does not know, a group matching rejected)
is counted apart (`awaiting_decision`) until the person decides; a record with a difference the
policy keeps as it is, or a correction a system refused, counts against accuracy. `drifted` lists
the differences found in this run, not those already waiting for a person since an earlier run.
A dry run corrects nothing, so its accuracy is that of the records as they are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, Field, computed_field

from domain.master_data.matching import Matches
from domain.master_data.policy import MasterSystem
from domain.master_data.survivorship import Action, Reconciliation, shown

APPLIED = (Action.CORRECT, Action.CREATE)
WHOLE_RECORD = "*"  # the field of a drift about a whole record (missing where it must be, or an orphan)


def field_label(field: str) -> str:
    return "(whole record)" if field == WHOLE_RECORD else field


class DriftRow(BaseModel):
    """One system's field that differed from the golden record. The values of a sensitive field
    are masked; those of any other field are kept as they are, because a correction writes them."""

    record: str  # the golden record's key (the system of record's id)
    system: str
    local_id: str | None = None  # the record's id in that system (None where it is to be created)
    field: str  # "*" for a whole record to create
    before: Any = None
    surviving: Any = None
    rule: str
    action: str  # correct | create | keep | conflict (and "would correct" in a dry run)
    batch: int = 0
    sensitive: bool = False
    conflict: str | None = None  # why a person decides: sensitive_differs, authorities_disagree, ...
    outcome: str | None = None  # what was done: corrected, created, failed: <reason>, task <id>

    @property
    def applies(self) -> bool:
        return self.action in (Action.CORRECT.value, Action.CREATE.value)


class SyncSummary(BaseModel):
    entity: str
    dry_run: bool = False
    read: dict[str, int] = Field(default_factory=dict, description="records read per system")
    matched: int = 0
    in_sync: int = 0
    drifted: dict[str, dict[str, int]] = Field(default_factory=dict, description="system -> field -> records")
    corrected: int = 0
    created: int = 0
    conflicts: int = Field(default=0, description="differences handed to a person in this run (tasks opened)")
    awaiting_decision: int = Field(default=0, description="records with a task open for a person")
    kept: int = 0
    rejected: list[str] = Field(default_factory=list, description="each rejected record with its reason")
    failed: list[str] = Field(default_factory=list, description="records a system refused to correct")
    duration_seconds: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def compared(self) -> int:
        return self.matched + len(self.rejected)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def accuracy(self) -> float:
        """Records in sync after the run / records compared that are not awaiting a person's
        decision (1.0 when there are none)."""
        responsible = self.compared - self.awaiting_decision
        return self.in_sync / responsible if responsible > 0 else 1.0


def summarise(
    entity: str,
    read: dict[str, int],
    matches: Matches,
    reconciled: Iterable[Reconciliation],
    *,
    dry_run: bool,
) -> SyncSummary:
    summary = SyncSummary(entity=entity, dry_run=dry_run, read=dict(read), matched=len(matches.groups))
    summary.rejected = [f"{', '.join(f'{s.value}:{i}' for s, i in r.records)}: {r.reason}" for r in matches.rejected]
    summary.awaiting_decision = len(matches.rejected)
    drifted: dict[str, Counter[str]] = {}
    for result in reconciled:
        actions = Counter(d.action for d in result.drifts)
        for drift in result.drifts:
            drifted.setdefault(drift.system.value, Counter())[field_label(drift.field)] += 1
        summary.corrected += 0 if dry_run else actions[Action.CORRECT]
        summary.created += 0 if dry_run else actions[Action.CREATE]
        waits = actions[Action.CONFLICT] + (1 if result.record_conflict else 0)
        summary.conflicts += waits
        summary.awaiting_decision += 1 if waits else 0
        summary.kept += actions[Action.KEEP]
        settled = result.record_conflict is None and all(d.action in APPLIED for d in result.drifts)
        summary.in_sync += 1 if result.in_sync or (settled and not dry_run) else 0
    summary.drifted = {system: dict(fields) for system, fields in sorted(drifted.items())}
    return summary


def drift_counts(rows: Iterable[DriftRow]) -> dict[str, dict[str, int]]:
    """system -> field -> how many records drifted, from report rows."""
    counts: dict[str, Counter[str]] = {}
    for row in rows:
        counts.setdefault(row.system, Counter())[field_label(row.field)] += 1
    return {system: dict(fields) for system, fields in sorted(counts.items())}


def drift_rows(
    record_id: str, result: Reconciliation, local_ids: dict[MasterSystem, str], *, dry_run: bool, batch: int = 0
) -> list[DriftRow]:
    """One row per system and field that differed: before and surviving values masked when sensitive."""
    return [
        DriftRow(
            record=record_id,
            system=d.system.value,
            local_id=local_ids.get(d.system),
            field=d.field,
            before=shown(d.before, d.sensitive),
            surviving=shown(d.after, d.sensitive),
            rule=d.rule,
            action=f"would {d.action.value}" if dry_run and d.action in APPLIED else d.action.value,
            batch=batch,
            sensitive=d.sensitive,
            conflict=d.conflict.value if d.conflict else ("sensitive_differs" if d.action is Action.CONFLICT else None),
        )
        for d in result.drifts
    ]
