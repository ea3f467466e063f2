"""What a mapping needs besides the transaction set: who sent it (the partner's supplier id), the
reference data to resolve X12 ids into ours (items, locations), and where the transaction set sits
in its file (interchange, group, transaction identity) for a deterministic event id.

Decisions:
- `MappingError` names the canonical model's field (`lines[0].uom`: list indexes are 0-based, as
  in the model and in pydantic's error locations), the X12 element (`PO103`), the reason and the
  segment's position in the file (1-based, as the reader counts), so a dead letter points at it.
  It may carry the AK4 syntax code the problem amounts to (7 invalid code value, 8 invalid date,
  1 mandatory element missing, 6 invalid character), for a caller that reports it in a 997.
- Items resolve by our id (`BP`/`IN`), else GTIN (`UK`/`EN`/`UP`), else part number (`VP`/`VN`/`MG`
  against `mfr_part`). When two ids on one line resolve to different items the line is an error
  (a hospital must not receive the wrong item because one id was stale); a part number shared by
  two items resolves nothing.
- Locations resolve by GLN (`UL`) or by our location id (`92`).
- `ReferenceData` indexes the item master once; build it once per run, not per transaction set.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.reference import Item, Location
from domain.x12.codes import ITEM_KEY_ORDER, PRODUCT_QUALIFIERS, ItemKey, normalise_gtin
from domain.x12.model import Delimiters, FunctionalGroup, Interchange, TransactionSet


class MappingError(ValueError):
    """One reason a transaction set cannot become our model."""

    def __init__(
        self, field: str, reason: str, position: int | None, element: str | None = None, syntax_code: str | None = None
    ) -> None:
        self.field = field
        self.reason = reason
        self.position = position
        self.element = element
        self.syntax_code = syntax_code
        where = ", ".join(part for part in (element, f"segment {position}" if position else None) if part)
        super().__init__(f"{field}{f' ({where})' if where else ''}: {reason}")

    def as_dict(self) -> dict[str, str | int | None]:
        return {"field": self.field, "element": self.element, "position": self.position, "reason": self.reason}


@dataclass(frozen=True)
class TransactionIdentity:
    """Where a transaction set sits: enough for an event id that is the same every time the same
    file is read (`x12:<sender>:<ISA13>:<GS06>:<ST02>`)."""

    sender_id: str  # ISA06
    interchange_control: str  # ISA13
    group_control: str  # GS06
    transaction_control: str  # ST02
    transaction_code: str = ""  # ST01
    group_date: str = ""  # GS04 CCYYMMDD
    group_time: str = ""  # GS05 HHMM[SS]

    @property
    def event_id(self) -> str:
        return f"x12:{self.sender_id}:{self.interchange_control}:{self.group_control}:{self.transaction_control}"

    @property
    def sent_at(self) -> datetime | None:
        """GS04/GS05 as a UTC time (X12 carries no time zone; we read it as UTC). None if unreadable."""
        digits = (self.group_time + "0000")[:4]
        try:
            return datetime.strptime(self.group_date + digits, "%Y%m%d%H%M").replace(tzinfo=UTC)
        except ValueError:
            return None

    @classmethod
    def of(cls, interchange: Interchange, group: FunctionalGroup, ts: TransactionSet) -> TransactionIdentity:
        return cls(
            sender_id=interchange.sender_id,
            interchange_control=interchange.control_number,
            group_control=group.control_number,
            transaction_control=ts.control_number,
            transaction_code=ts.code,
            group_date=group.date,
            group_time=group.time,
        )


class ItemNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ProductId:
    """One qualifier/id pair of a line (`UK` `10888881004044` from PO106/PO107)."""

    qualifier: str
    value: str
    element: str  # where the id is, e.g. PO107


class ReferenceData:
    """The item master and our locations, indexed for X12 ids."""

    def __init__(self, items: Iterable[Item] = (), locations: Iterable[Location] = ()) -> None:
        self.items = {item.item_id: item for item in items}
        self.locations = {location.location_id: location for location in locations}
        self._by_gtin: dict[str, list[Item]] = defaultdict(list)
        self._by_part: dict[str, list[Item]] = defaultdict(list)
        for item in self.items.values():
            if item.gtin:
                self._by_gtin[normalise_gtin(item.gtin)].append(item)
            if item.mfr_part:
                self._by_part[item.mfr_part.strip().upper()].append(item)
        self._by_gln = {loc.gln.strip(): loc for loc in self.locations.values() if loc.gln}

    def _candidates(self, key: ItemKey, value: str) -> list[Item]:
        if key is ItemKey.ITEM_ID:
            found = self.items.get(value)
            return [found] if found else []
        if key is ItemKey.GTIN:
            return self._by_gtin.get(normalise_gtin(value), []) if value.isdigit() else []
        return self._by_part.get(value.upper(), [])

    def resolve_item(self, ids: list[ProductId]) -> Item:
        """The item the ids name (see the module's decisions). Raises ItemNotFound naming the ids."""
        known = [(pid, PRODUCT_QUALIFIERS[pid.qualifier]) for pid in ids if pid.qualifier in PRODUCT_QUALIFIERS]
        known.sort(key=lambda pair: ITEM_KEY_ORDER.index(pair[1]))
        chosen: tuple[ProductId, Item] | None = None
        for pid, key in known:
            candidates = self._candidates(key, pid.value)
            if len(candidates) != 1:
                continue
            if chosen is None:
                chosen = (pid, candidates[0])
            elif candidates[0].item_id != chosen[1].item_id:
                raise ItemNotFound(
                    f"{chosen[0].qualifier} {chosen[0].value} ({chosen[0].element}) is {chosen[1].item_id} but "
                    f"{pid.qualifier} {pid.value} ({pid.element}) is {candidates[0].item_id}"
                )
        if chosen is None:
            named = ", ".join(f"{pid.qualifier} {pid.value}" for pid in ids) or "no product id"
            raise ItemNotFound(f"{named}: no item of the item master matches")
        return chosen[1]

    def resolve_location(self, qualifier: str, value: str) -> Location | None:
        if qualifier == "UL":
            return self._by_gln.get(value)
        if qualifier == "92":
            return self.locations.get(value)
        return None

    def gln_of(self, location_id: str) -> str | None:
        location = self.locations.get(location_id)
        return location.gln if location and location.gln else None


@dataclass(frozen=True)
class MappingContext:
    """Everything a `map_xxx(ts, ctx)` reads besides the transaction set."""

    identity: TransactionIdentity
    reference: ReferenceData = field(default_factory=ReferenceData)
    supplier_id: str | None = None  # the partner's supplier (None for our own systems, e.g. a legacy 850)
    delimiters: Delimiters = field(default_factory=Delimiters)

    @classmethod
    def for_transaction(
        cls,
        interchange: Interchange,
        group: FunctionalGroup,
        ts: TransactionSet,
        *,
        reference: ReferenceData,
        supplier_id: str | None = None,
    ) -> MappingContext:
        return cls(
            identity=TransactionIdentity.of(interchange, group, ts),
            reference=reference,
            supplier_id=supplier_id,
            delimiters=interchange.delimiters,
        )

    @property
    def event_id(self) -> str:
        return self.identity.event_id
