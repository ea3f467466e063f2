"""Reading typed values out of X12 elements for the mappings, each failure a `MappingError` naming
the model field, the element and the segment.

Decisions:
- Dates are CCYYMMDD (the 4010 and 5010 date elements); a six-digit date is refused, not guessed.
- Numbers: `R` elements are plain decimals (`38.40`, `-2`, `.5`; no exponent), `N2` elements carry
  two implied places (`133600` is 1336.00).
- A pydantic validation error of the model built is translated into a `MappingError` for its
  first problem, naming the element the field came from (recorded with `Sources.note`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domain.reference import Item, Location
from domain.x12.codes import UnknownCode, unit_from_x12
from domain.x12.context import ItemNotFound, MappingContext, MappingError, ProductId
from domain.x12.model import Segment, TransactionSet

ModelT = TypeVar("ModelT", bound=BaseModel)

_REAL = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)$")
_DIGITS = re.compile(r"^-?\d+$")
MISSING, INVALID_CHARACTER, INVALID_CODE, INVALID_DATE = "1", "6", "7", "8"  # AK4 element syntax codes


def ref(segment: Segment, number: int) -> str:
    """`PO103` for element 3 of a PO1 segment."""
    return f"{segment.tag}{number:02d}"


def text(segment: Segment, number: int, field: str) -> str:
    """A required element's text."""
    value = segment.element(number)
    if not value:
        raise MappingError(field, f"{ref(segment, number)} is empty", segment.position, ref(segment, number), MISSING)
    return value


def ccyymmdd(segment: Segment, number: int, field: str) -> date:
    value = text(segment, number, field)
    try:
        if len(value) != 8:
            raise ValueError
        return datetime.strptime(value, "%Y%m%d").date()
    except ValueError:
        raise MappingError(
            field, f"{value!r} is not a date as CCYYMMDD", segment.position, ref(segment, number), INVALID_DATE
        ) from None


def optional_date(segment: Segment, number: int, field: str) -> date | None:
    return ccyymmdd(segment, number, field) if segment.element(number) else None


def decimal(segment: Segment, number: int, field: str, *, implied_places: int = 0) -> Decimal:
    value = text(segment, number, field)
    pattern = _DIGITS if implied_places else _REAL
    try:
        if not pattern.match(value):
            raise InvalidOperation
        return Decimal(value).scaleb(-implied_places)
    except InvalidOperation:
        kind = f"a number with {implied_places} implied decimal places" if implied_places else "a decimal number"
        raise MappingError(
            field, f"{value!r} is not {kind}", segment.position, ref(segment, number), INVALID_CHARACTER
        ) from None


def optional_decimal(segment: Segment, number: int, field: str, *, implied_places: int = 0) -> Decimal | None:
    return decimal(segment, number, field, implied_places=implied_places) if segment.element(number) else None


def integer(segment: Segment, number: int, field: str) -> int:
    value = text(segment, number, field)
    if not value.isdigit():
        raise MappingError(
            field, f"{value!r} is not a whole number", segment.position, ref(segment, number), INVALID_CHARACTER
        )
    return int(value)


def unit(segment: Segment, number: int, field: str) -> str:
    """Our unit of an X12 unit code element (`CA` -> `CS`)."""
    code = text(segment, number, field)
    try:
        return unit_from_x12(code)
    except UnknownCode as error:
        raise MappingError(field, str(error), segment.position, ref(segment, number), INVALID_CODE) from None


def product_ids(segment: Segment, first: int) -> list[ProductId]:
    """The qualifier/id pairs from element `first` on (PO106/PO107, PO108/PO109, ...)."""
    ids = []
    for number in range(first, len(segment.elements) + 1, 2):
        qualifier, value = segment.element(number), segment.element(number + 1)
        if qualifier and value:
            ids.append(ProductId(qualifier, value, ref(segment, number + 1)))
    return ids


def item(ctx: MappingContext, segment: Segment, first: int, field: str) -> Item:
    """The item of a line's product ids (from element `first` on)."""
    try:
        return ctx.reference.resolve_item(product_ids(segment, first))
    except ItemNotFound as error:
        raise MappingError(field, str(error), segment.position, f"{ref(segment, first)}..", INVALID_CODE) from None


def location(ctx: MappingContext, n1: Segment, field: str) -> Location:
    """The location an N1 names by GLN (`UL`) or our id (`92`) in N103/N104."""
    qualifier, value = n1.element(3), n1.element(4)
    found = ctx.reference.resolve_location(qualifier, value) if value else None
    if found is None:
        what = f"{qualifier or '(no qualifier)'} {value}" if value else "no N103/N104 id"
        raise MappingError(field, f"{n1.element(1)} party {what}: not one of our locations", n1.position, "N104")
    return found


def partner_supplier(ctx: MappingContext, n1: Segment | None, field: str = "supplier_id") -> str:
    """The supplier of a document from a supplier: the partner's. An N1 naming another supplier by
    our id (`92`) is refused: a partner speaks only for its own supplier."""
    named = n1.element(4) if n1 is not None and n1.element(3) == "92" else None
    if ctx.supplier_id is None:
        if named:
            return named
        raise MappingError(field, "the partner has no supplier and no N1 names one by our id (92)", None)
    if named and n1 is not None and named != ctx.supplier_id:
        raise MappingError(
            field,
            f"N1 {n1.element(1)} names supplier {named} but the interchange comes from the partner of "
            f"{ctx.supplier_id}",
            n1.position,
            "N104",
        )
    return ctx.supplier_id


def body(ts: TransactionSet, required: str) -> Iterator[Segment]:
    """The segments between ST and SE; `required` (a tag) must be among them."""
    if not any(segment.tag == required for segment in ts.body):
        raise MappingError(
            _HEADER_FIELDS.get(required, required), f"no {required} segment", ts.position, required, None
        )
    return iter(ts.body)


_HEADER_FIELDS = {
    "BAK": "po_number",
    "BIG": "invoice_number",
    "BEG": "po_number",
    "BSN": "asn_number",
    "BCT": "catalog_id",
    "AK1": "group_control_number",
}


class Sources:
    """Where each field of the model being built came from: `note("lines[0].uom", "IT103", 12)`."""

    def __init__(self) -> None:
        self._where: dict[str, tuple[str | None, int | None]] = {}

    def note(self, path: str, segment: Segment, number: int | None = None) -> None:
        self._where[path] = (ref(segment, number) if number else segment.tag, segment.position)

    def locate(self, path: str) -> tuple[str | None, int | None]:
        while path:
            if path in self._where:
                return self._where[path]
            path = path.rpartition(".")[0] if "." in path else re.sub(r"\[\d+\]$", "", path) if "[" in path else ""
        return None, None

    def build(self, model: type[ModelT], data: dict[str, Any], *, root_field: str = "lines") -> ModelT:
        try:
            return model.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            path = _path(first["loc"]) or root_field
            element, position = self.locate(path)
            raise MappingError(path, str(first["msg"]), position, element) from None


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path
