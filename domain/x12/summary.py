"""What the reader sees in an X12 file, as a report: delimiters, interchanges, groups, transaction
sets (code, control number, segment count) and every error with its level, standard code,
message and segment position. `supplybridge edi inspect` prints it.

Decisions:
- Built from the streaming reader (`iter_transactions`): segments are counted, not kept, so a
  large file is inspected in constant memory per transaction set.
- `valid` is false when any error was found at any level (interchange, group, transaction set),
  data outside any interchange and a file that is not X12 included.
- Each envelope lists its own errors, and the file lists them all once more, flat and in file
  order, each naming the interchange, group and transaction set it belongs to (control numbers).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pydantic import BaseModel

from domain.x12.model import Delimiters, FunctionalGroup, Interchange, TransactionSet, X12Error
from domain.x12.reader import GroupClosed, InterchangeClosed, TransactionRead, iter_transactions


class ErrorView(BaseModel):
    level: str  # interchange, group, transaction
    code: str  # TA1 note code, AK9 or AK5 code (by level)
    message: str
    position: int | None  # 1-based segment number in the file
    tag: str | None
    interchange: str | None = None  # ISA13 of the interchange it is in
    group: str | None = None  # GS06
    transaction: str | None = None  # ST02


class DelimitersView(BaseModel):
    element: str
    component: str
    repetition: str | None
    segment: str

    @classmethod
    def of(cls, delimiters: Delimiters) -> DelimitersView:
        return cls(**vars(delimiters))


class TransactionView(BaseModel):
    code: str  # ST01
    control_number: str  # ST02
    position: int
    segments: int  # ST through SE, as read
    valid: bool
    errors: list[ErrorView]


class GroupView(BaseModel):
    functional_id: str
    sender: str
    receiver: str
    date: str
    time: str
    control_number: str
    version: str
    position: int
    valid: bool
    transactions: list[TransactionView]
    errors: list[ErrorView]


class PartyView(BaseModel):
    qualifier: str
    id: str


class InterchangeView(BaseModel):
    position: int
    enveloped: bool  # false: data outside any ISA...IEA, reported with its errors
    sender: PartyView
    receiver: PartyView
    date: str
    time: str
    version: str
    control_number: str
    usage: str
    ack_requested: bool
    delimiters: DelimitersView
    ta1_segments: int
    valid: bool
    groups: list[GroupView]
    errors: list[ErrorView]


class FileSummary(BaseModel):
    valid: bool
    interchanges: list[InterchangeView]
    groups: int
    transaction_sets: int
    errors: list[ErrorView]


def _errors(
    errors: list[X12Error],
    interchange: Interchange,
    group: FunctionalGroup | None = None,
    transaction: TransactionSet | None = None,
) -> list[ErrorView]:
    where = {
        "interchange": interchange.control_number or None,
        "group": group.control_number if group else None,
        "transaction": transaction.control_number if transaction else None,
    }
    return [
        ErrorView(level=e.level.value, code=e.code, message=e.message, position=e.position, tag=e.tag, **where)
        for e in errors
    ]


def _group_view(interchange: Interchange, group: FunctionalGroup, transactions: list[TransactionView]) -> GroupView:
    errors = _errors(group.errors, interchange, group)
    return GroupView(
        functional_id=group.functional_id,
        sender=group.sender,
        receiver=group.receiver,
        date=group.date,
        time=group.time,
        control_number=group.control_number,
        version=group.version,
        position=group.position,
        valid=not errors and all(t.valid for t in transactions),
        transactions=transactions,
        errors=errors,
    )


def _interchange_view(interchange: Interchange, groups: list[GroupView]) -> InterchangeView:
    errors = _errors(interchange.errors, interchange)
    return InterchangeView(
        position=interchange.position,
        enveloped=interchange.enveloped,
        sender=PartyView(qualifier=interchange.sender_qualifier, id=interchange.sender_id),
        receiver=PartyView(qualifier=interchange.receiver_qualifier, id=interchange.receiver_id),
        date=interchange.date,
        time=interchange.time,
        version=interchange.version,
        control_number=interchange.control_number,
        usage=interchange.usage,
        ack_requested=interchange.ack_requested,
        delimiters=DelimitersView.of(interchange.delimiters),
        ta1_segments=len(interchange.ta1),
        valid=not errors and all(g.valid for g in groups),
        groups=groups,
        errors=errors,
    )


def _all_errors(interchanges: list[InterchangeView]) -> Iterator[ErrorView]:
    for interchange in interchanges:
        yield from interchange.errors
        for group in interchange.groups:
            yield from group.errors
            for transaction in group.transactions:
                yield from transaction.errors


def summarize(data: bytes | Iterable[bytes]) -> FileSummary:
    """The report of `data` (the file's bytes, whole or in chunks). Never raises on bad input."""
    interchanges: list[InterchangeView] = []
    groups: list[GroupView] = []
    transactions: list[TransactionView] = []
    for event in iter_transactions(data):
        if isinstance(event, TransactionRead):
            ts = event.transaction
            errors = _errors(ts.errors, event.interchange, event.group, ts)
            view = TransactionView(
                code=ts.code,
                control_number=ts.control_number,
                position=ts.position,
                segments=len(ts.segments),
                valid=not errors,
                errors=errors,
            )
            transactions.append(view)
        elif isinstance(event, GroupClosed):
            groups.append(_group_view(event.interchange, event.group, transactions))
            transactions = []
        elif isinstance(event, InterchangeClosed):
            interchanges.append(_interchange_view(event.interchange, groups))
            groups = []
    every = [*_all_errors(interchanges)]
    every.sort(key=lambda error: error.position or 0)
    return FileSummary(
        valid=not every,
        interchanges=interchanges,
        groups=sum(len(i.groups) for i in interchanges),
        transaction_sets=sum(len(g.transactions) for i in interchanges for g in i.groups),
        errors=every,
    )
