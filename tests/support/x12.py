"""X12 test helpers: the example files of tests/data/edi/ (copied from the shared examples),
edited variants of them with a right SE count, and mapping one through the reader."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from domain.x12.context import MappingContext, MappingError, ReferenceData
from domain.x12.model import TransactionSet
from domain.x12.reader import read_interchanges
from tests.support.fakes import seed_items, seed_locations

EDI = Path(__file__).resolve().parents[1] / "data" / "edi"
REFERENCE = ReferenceData(seed_items().values(), seed_locations())
CASCADIA, LAKESHORE = "SUP-0003", "SUP-0001"
Mapper = Callable[[TransactionSet, MappingContext], Any]


def example(name: str) -> bytes:
    return (EDI / name).read_bytes()


def fix_count(text: str) -> str:
    """`text` (one transaction set, `*` and `~` delimiters) with SE01 counting its segments."""
    segments = [s.strip() for s in text.split("~") if s.strip()]
    st_index = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    se_index = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    control = segments[se_index].split("*")[2]
    segments[se_index] = f"SE*{se_index - st_index + 1}*{control}"
    return "~\n".join(segments) + "~\n"


def replaced(name: str, old: str, new: str) -> bytes:
    """An example with `old` replaced by `new` (its SE count fixed)."""
    text = example(name).decode()
    assert old in text, old
    return fix_count(text.replace(old, new)).encode()


def mapped(data: bytes, mapper: Mapper, supplier_id: str | None = CASCADIA) -> Any:
    """The first transaction set of `data`, read (its envelope must be clean) and mapped."""
    (interchange,) = read_interchanges(data)
    assert interchange.ok, [*interchange.errors, *(e for g in interchange.groups for e in g.errors)]
    group = interchange.groups[0]
    ts = group.transactions[0]
    assert not ts.errors, ts.errors
    ctx = MappingContext.for_transaction(interchange, group, ts, reference=REFERENCE, supplier_id=supplier_id)
    return mapper(ts, ctx)


def refused(data: bytes, mapper: Mapper, supplier_id: str | None = CASCADIA) -> MappingError:
    with pytest.raises(MappingError) as caught:
        mapped(data, mapper, supplier_id)
    return caught.value


def where(error: MappingError) -> tuple[str, str | None, int | None]:
    return error.field, error.element, error.position
