"""Legacy flat files as data: a small declarative column map per file kind turns each CSV row into
the same document a JSON request carries (a `SupplierOnboardingRequest` for a vendor-request
export), not code per column.

A map names the target field by its dotted path (`bank_account.routing_number`,
`credentialing.documents.1.expires_on`) and where its value comes from: a column (`"ein"`), a
constant (`Const("EIN")`), or a column split into a list (`Split("unspsc_codes", ";")`). An empty
cell leaves the field out, so the model's own rules say what is missing. A file is recognised by
its header: every column the map reads must be there (extra columns are ignored).

Each row is validated on its own: a bad row is reported with its line number (the header is
line 1) and the field, and never stops the others.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.supplier import SupplierOnboardingRequest


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Split:
    column: str
    separator: str = ";"


Source = str | Const | Split


@dataclass(frozen=True)
class FileMap:
    kind: str
    model: type[BaseModel]
    key: str  # the column naming the record (shown in reports and dead letters)
    fields: dict[str, Source]

    @property
    def columns(self) -> set[str]:
        named = {s if isinstance(s, str) else s.column for s in self.fields.values() if not isinstance(s, Const)}
        return named | {self.key}


VENDOR_REQUESTS = FileMap(
    kind="vendor_request",
    model=SupplierOnboardingRequest,
    key="vendor_id",
    fields={
        "source.system": Const("vendor_management"),
        "source.id": "vendor_id",
        "legal_name": "legal_name",
        "dba_name": "dba_name",
        "tax_id.kind": Const("EIN"),
        "tax_id.value": "ein",
        "identifiers.duns": "duns",
        "remit_to.line1": "remit_line1",
        "remit_to.city": "remit_city",
        "remit_to.state": "remit_state",
        "remit_to.postal_code": "remit_postal_code",
        "bank_account.routing_number": "routing_number",
        "bank_account.account_number": "account_number",
        "bank_account.account_type": "account_type",
        "bank_account.holder_name": "legal_name",
        "payment_terms": "payment_terms",
        "categories": Split("unspsc_codes"),
        "diversity": Split("diversity"),
        "contacts.0.name": Const("Accounts Receivable"),
        "contacts.0.email": "ar_email",
        "contacts.0.role": Const("accounts_receivable"),
        "credentialing.status": Const("approved"),
        "credentialing.documents.0.kind": Const("w9"),
        "credentialing.documents.0.received_on": "w9_received_on",
        "credentialing.documents.1.kind": Const("certificate_of_insurance"),
        "credentialing.documents.1.received_on": "coi_received_on",
        "credentialing.documents.1.expires_on": "coi_expires_on",
    },
)
FILE_MAPS = (VENDOR_REQUESTS,)


@dataclass(frozen=True)
class MappedRow:
    line: int
    key: str | None
    raw: str  # the header and this row, as CSV: enough to run it again
    document: BaseModel | None = None
    errors: tuple[tuple[str, str], ...] = ()  # (field, reason)


def recognise(text: str) -> FileMap | None:
    """The map whose columns the file's header holds; None when no map fits."""
    header = next(csv.reader(io.StringIO(text)), [])
    present = {column.strip() for column in header}
    return next((m for m in FILE_MAPS if m.columns <= present), None)


def map_rows(text: str, file_map: FileMap) -> Iterator[MappedRow]:
    """Each data row as its document, or the reasons it is not one."""
    reader = csv.DictReader(io.StringIO(text))
    header = [c.strip() for c in reader.fieldnames or []]
    for row in reader:
        line = reader.line_num
        cells = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
        raw = _as_csv(header, [cells.get(c, "") for c in header])
        key = cells.get(file_map.key) or None
        try:
            yield MappedRow(line, key, raw, document=file_map.model.model_validate(_nested(file_map, cells)))
        except ValidationError as error:
            yield MappedRow(line, key, raw, errors=tuple(_reasons(error)))


def _nested(file_map: FileMap, cells: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for path, source in file_map.fields.items():
        value = _value(source, cells)
        if value is None:
            continue
        _put(document, path.split("."), value)
    return _lists(document)


def _value(source: Source, cells: dict[str, str]) -> Any:
    if isinstance(source, Const):
        return source.value
    if isinstance(source, Split):
        cell = cells.get(source.column, "")
        return [part.strip() for part in cell.split(source.separator) if part.strip()] if cell else None
    return cells.get(source) or None


def _put(document: dict[str, Any], path: list[str], value: Any) -> None:
    node = document
    for step in path[:-1]:
        node = node.setdefault(step, {})
    node[path[-1]] = value


def _lists(node: Any) -> Any:
    """{"0": a, "1": b} -> [a, b] (the dotted paths' numbered steps), depth first."""
    if not isinstance(node, dict):
        return node
    converted = {k: _lists(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _reasons(error: ValidationError) -> Iterator[tuple[str, str]]:
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"]) or "row"
        yield field, str(problem["msg"])


def _as_csv(header: list[str], values: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerow(values)
    return buffer.getvalue()
