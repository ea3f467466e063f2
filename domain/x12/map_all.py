"""One entry point for the intake: the mapping of a transaction set by its code (ST01)."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from domain.x12.context import MappingContext, MappingError
from domain.x12.map_810 import map_810
from domain.x12.map_832 import map_832
from domain.x12.map_850 import map_850
from domain.x12.map_855 import map_855
from domain.x12.map_856 import map_856
from domain.x12.map_997 import map_997
from domain.x12.model import TransactionSet

Mapper = Callable[[TransactionSet, MappingContext], BaseModel]

MAPPERS: dict[str, Mapper] = {
    "810": map_810,
    "832": map_832,
    "850": map_850,
    "855": map_855,
    "856": map_856,
    "997": map_997,
    "999": map_997,
}


def map_transaction_set(ts: TransactionSet, ctx: MappingContext) -> BaseModel:
    """The canonical model of `ts`; MappingError for a set we do not trade or cannot map."""
    mapper = MAPPERS.get(ts.code)
    if mapper is None:
        raise MappingError(
            "transaction_set",
            f"{ts.code or '(none)'} is not a transaction set we map ({', '.join(MAPPERS)})",
            ts.position,
            "ST01",
        )
    return mapper(ts, ctx)
