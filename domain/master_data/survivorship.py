"""The golden record of one entity and the drift of each system from it.

Input: what each system holds for one matched record, field by field (`SourceRecords`), with
when each value last changed where the system says so. Output: for each field, the surviving
value and the rule that chose it (`FieldDecision`), and for each system and field that differs,
what to do (`Drift`): correct it, keep it (the policy never overwrites it, or it is a sensitive
value missing in one system: reported, never filled), or leave it to a person (a conflict: a
sensitive field holds different values, or two authoritative systems disagree).

Values are compared after normalisation: surrounding and repeated whitespace is ignored, an
empty string or list is no value, lists compare as sets (order and repeats do not matter), and
mappings (an address) compare field by field the same way. Case is kept: "ACME" and "Acme" are
different names. Applying every `CORRECT` drift and computing again finds none (idempotent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.master_data.policy import EntityPolicy, Fallback, FieldRule, MasterSystem
from domain.sensitive import mask


@dataclass(frozen=True)
class FieldValue:
    value: Any
    updated_at: datetime | None = None


SourceRecords = dict[MasterSystem, dict[str, FieldValue]]
"""For one matched record: each system that holds it, and its fields."""


class Action(StrEnum):
    CORRECT = "correct"
    KEEP = "keep"
    CONFLICT = "conflict"
    CREATE = "create"


class ConflictKind(StrEnum):
    SENSITIVE_DIFFERS = "sensitive_differs"
    AUTHORITIES_DISAGREE = "authorities_disagree"
    UNKNOWN_TO_SYSTEM_OF_RECORD = "unknown_to_system_of_record"


@dataclass(frozen=True)
class FieldDecision:
    field: str
    value: Any  # normalised; None when no system has one
    rule: str  # "authority:erp", "most_recent:vendor_management", "union", "never_overwrite", ...
    conflict: ConflictKind | None = None


@dataclass(frozen=True)
class Drift:
    system: MasterSystem
    field: str
    before: Any  # normalised, unmasked: mask with `shown` before it leaves the process
    after: Any
    rule: str
    action: Action
    sensitive: bool = False
    conflict: ConflictKind | None = None


@dataclass(frozen=True)
class Reconciliation:
    golden: dict[str, FieldDecision]
    drifts: list[Drift] = field(default_factory=list)
    record_conflict: ConflictKind | None = None

    @property
    def in_sync(self) -> bool:
        return not self.drifts and self.record_conflict is None

    def golden_values(self, rules: dict[str, FieldRule]) -> dict[str, Any]:
        """The golden record without its sensitive fields (what the analytics platform gets)."""
        return {name: d.value for name, d in self.golden.items() if not rules[name].sensitive}


def normalise(value: Any) -> Any:
    """The comparable form of a value; None for no value."""
    if value is None:
        return None
    if isinstance(value, str):
        text = " ".join(value.split())
        return text or None
    if isinstance(value, list | tuple | set | frozenset):
        items = {json.dumps(normalise(v), sort_keys=True, default=str) for v in value}
        items.discard("null")
        return [json.loads(i) for i in sorted(items)] or None
    if isinstance(value, dict):
        pairs = {k: normalise(v) for k, v in value.items()}
        kept = {k: v for k, v in sorted(pairs.items()) if v is not None}
        return kept or None
    return value


def shown(value: Any, sensitive: bool) -> Any:
    """A value as a report may show it: a sensitive one masked to its last four characters."""
    if not sensitive or value is None:
        return value
    return mask(json.dumps(value, sort_keys=True) if not isinstance(value, str) else value)


def decide_field(name: str, rule: FieldRule, values: dict[MasterSystem, FieldValue]) -> FieldDecision:
    """The surviving value of one field, from what the systems that carry it hold."""
    held = {s: normalise(values[s].value) for s in rule.systems if s in values}
    present = {s: v for s, v in held.items() if v is not None}
    authoritative = {s: v for s, v in present.items() if s in rule.authorities}
    if authoritative:
        distinct = _distinct(authoritative.values())
        first = next(iter(authoritative))
        conflict = ConflictKind.AUTHORITIES_DISAGREE if len(distinct) > 1 else None
        if conflict is None and rule.sensitive and len(_distinct(present.values())) > 1:
            conflict = ConflictKind.SENSITIVE_DIFFERS
        return FieldDecision(name, authoritative[first], f"authority:{first.value}", conflict)
    if not present:
        return FieldDecision(name, None, "no_value")
    if any(s in held for s in rule.authorities):
        # the survivor fills the empty authority and is authoritative from then on, so every
        # other system follows it now (a second run would say the same: idempotent)
        fallback = _fallback_value(name, rule, present, values)
        return FieldDecision(name, fallback.value, f"{fallback.rule}>authority", fallback.conflict)
    return _fallback_value(name, rule, present, values)


def _fallback_value(
    name: str, rule: FieldRule, present: dict[MasterSystem, Any], values: dict[MasterSystem, FieldValue]
) -> FieldDecision:
    conflict = ConflictKind.SENSITIVE_DIFFERS if rule.sensitive and len(_distinct(present.values())) > 1 else None
    if rule.fallback is Fallback.UNION:
        return FieldDecision(name, normalise([item for v in present.values() for item in v]), "union", conflict)
    if rule.fallback is Fallback.NEVER_OVERWRITE:
        first = next(iter(present))
        return FieldDecision(name, present[first], "never_overwrite", conflict)
    latest = _most_recent(present, values, rule.systems)
    return FieldDecision(name, present[latest], f"most_recent:{latest.value}", conflict)


def reconcile(policy: EntityPolicy, records: SourceRecords) -> Reconciliation:
    """The golden record of one matched record and every system's drift from it."""
    golden = {name: decide_field(name, rule, _values_of(records, name)) for name, rule in policy.fields.items()}
    if policy.system_of_record not in records:
        return Reconciliation(golden, [], ConflictKind.UNKNOWN_TO_SYSTEM_OF_RECORD)
    drifts = [d for name, rule in policy.fields.items() for d in _field_drifts(golden[name], rule, records)]
    drifts += [
        Drift(system, "*", None, None, "required_in", Action.CREATE)
        for system in policy.required_in
        if system not in records
    ]
    return Reconciliation(golden, drifts)


def _field_drifts(decision: FieldDecision, rule: FieldRule, records: SourceRecords) -> list[Drift]:
    drifts = []
    for system in rule.systems:
        if system not in records or decision.value is None:
            continue
        before = normalise(records[system].get(decision.field, FieldValue(None)).value)
        if before == decision.value:
            continue
        action = _action(decision, rule, before)
        drifts.append(
            Drift(
                system,
                decision.field,
                before,
                decision.value,
                decision.rule,
                action,
                rule.sensitive,
                decision.conflict if action is Action.CONFLICT else None,
            )
        )
    return drifts


def _action(decision: FieldDecision, rule: FieldRule, before: Any) -> Action:
    if decision.conflict is not None:
        return Action.CONFLICT
    if rule.sensitive:  # never changed automatically: an empty one is reported, not filled
        return Action.KEEP
    if decision.rule == "never_overwrite" and before is not None:
        return Action.KEEP
    return Action.CORRECT


def _values_of(records: SourceRecords, name: str) -> dict[MasterSystem, FieldValue]:
    """Every system that holds the record has the field, empty when it does not say."""
    return {system: fields.get(name, FieldValue(None)) for system, fields in records.items()}


def _distinct(values: Any) -> set[str]:
    return {json.dumps(v, sort_keys=True, default=str) for v in values}


def _most_recent(
    present: dict[MasterSystem, Any], values: dict[MasterSystem, FieldValue], order: list[MasterSystem]
) -> MasterSystem:
    """The system whose value changed last; undated values are the oldest; ties go by `order`."""

    def key(system: MasterSystem) -> tuple[float, int]:
        stamp = values[system].updated_at
        return (stamp.timestamp() if stamp else float("-inf"), -order.index(system))

    return max(present, key=key)
