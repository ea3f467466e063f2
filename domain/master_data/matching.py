"""Which records of the systems are the same supplier (or item, or contract).

First the cross-reference: links between system ids that onboarding and earlier syncs recorded.
Then a match key (the tax id for suppliers, the GTIN for items), normalised, for records the
cross-reference does not link yet; a link found by key is returned so the sync records it.
A key is only used when it is unique within each system: a tax id two ERP suppliers share links
neither by key (they are reported, and still match through the cross-reference), and a group
that would hold two records of one system is not merged but rejected with
its reason, so one doubtful record never corrupts another's golden record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from domain.master_data.policy import MasterSystem
from domain.master_data.survivorship import FieldValue, SourceRecords

RecordKey = tuple[MasterSystem, str]  # (system, the id in that system)


@dataclass(frozen=True)
class SystemRecord:
    system: MasterSystem
    local_id: str
    fields: dict[str, FieldValue]
    match_keys: dict[str, str] = field(default_factory=dict)  # e.g. {"tax_id": "541187733"}
    links: tuple[RecordKey, ...] = ()  # ids of the same record in other systems, as this one knows them


@dataclass(frozen=True)
class Link:
    a: RecordKey
    b: RecordKey


@dataclass(frozen=True)
class Rejected:
    records: tuple[RecordKey, ...]
    reason: str


@dataclass
class Matches:
    groups: list[dict[MasterSystem, SystemRecord]] = field(default_factory=list)
    new_links: list[Link] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    ambiguous_keys: list[Rejected] = field(default_factory=list)
    """key values not used because a system holds them twice (the records still match by link)"""

    def source_records(self) -> list[SourceRecords]:
        return [{system: record.fields for system, record in group.items()} for group in self.groups]


def match_records(records: Iterable[SystemRecord], links: Iterable[Link], key_names: Iterable[str]) -> Matches:
    by_key = {(r.system, r.local_id): r for r in records}
    parent: dict[RecordKey, RecordKey] = {k: k for k in by_key}
    result = Matches()

    def root(node: RecordKey) -> RecordKey:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def join(a: RecordKey, b: RecordKey) -> bool:
        ra, rb = root(a), root(b)
        if ra == rb:
            return False
        parent[rb] = ra
        return True

    known = [*links, *(Link((r.system, r.local_id), other) for r in by_key.values() for other in r.links)]
    for link in known:
        if link.a in parent and link.b in parent:
            join(link.a, link.b)
    for key_name in key_names:
        for holders in _unique_key_holders(by_key.values(), key_name, result).values():
            for other in holders[1:]:
                if join(holders[0], other):
                    result.new_links.append(Link(holders[0], other))

    groups: dict[RecordKey, list[RecordKey]] = defaultdict(list)
    for node in by_key:
        groups[root(node)].append(node)
    for members in groups.values():
        systems = [system for system, _ in members]
        doubled = sorted({s.value for s in systems if systems.count(s) > 1})
        if doubled:
            result.rejected.append(Rejected(tuple(sorted(members)), f"more than one record in {', '.join(doubled)}"))
            continue
        result.groups.append({system: by_key[(system, local_id)] for system, local_id in sorted(members)})
    unusable = {key for rejected in result.rejected for key in rejected.records}
    result.new_links = [link for link in result.new_links if link.a not in unusable and link.b not in unusable]
    return result


def _unique_key_holders(records: Iterable[SystemRecord], key_name: str, result: Matches) -> dict[str, list[RecordKey]]:
    """key value -> the records holding it, one per system; a value shared within a system is
    reported and not used."""
    holders: dict[str, dict[MasterSystem, list[str]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        value = _normal_key(record.match_keys.get(key_name))
        if value:
            holders[value][record.system].append(record.local_id)
    usable: dict[str, list[RecordKey]] = {}
    for value, per_system in holders.items():
        shared = {s: ids for s, ids in per_system.items() if len(ids) > 1}
        for system, ids in shared.items():
            keys = tuple((system, i) for i in sorted(ids))
            result.ambiguous_keys.append(Rejected(keys, f"{key_name} shared by {len(ids)} {system.value} records"))
        usable[value] = [(s, ids[0]) for s, ids in sorted(per_system.items()) if s not in shared]
    return usable


def _normal_key(value: str | None) -> str:
    return "".join(ch for ch in value or "" if ch.isalnum()).upper()
