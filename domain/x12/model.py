"""What the X12 reader returns: segments, and the envelopes around them (interchange, functional
group, transaction set), each with the errors the envelope checks found and where.

Positions are 1-based segment numbers counted from the start of the file (the ISA of the first
interchange is segment 1), so an error, a dead letter or `edi inspect` can point at the segment.
Element numbers are 1-based as in the standard: `BAK03` is `segment.element(3)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple


@dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ">"
    repetition: str | None = None  # ISA11 in 00402 and later; `U` (or absent) in 00401 and before
    segment: str = "~"


class Segment(NamedTuple):
    """A NamedTuple, not a frozen dataclass: the reader builds one per segment, and a tuple is
    built in half the time (bench/x12.py measured 0.15 -> 0.25 of a plain split pass)."""

    tag: str
    elements: tuple[str, ...]  # elements 1..n (the tag is not one of them)
    position: int  # 1-based segment number in the file

    def element(self, number: int) -> str:
        """Element `number` (1-based, as `BAK03`), stripped; "" when absent."""
        return self.elements[number - 1].strip() if 0 < number <= len(self.elements) else ""

    def components(self, number: int, delimiters: Delimiters) -> list[str]:
        return self.element(number).split(delimiters.component)


class Level(StrEnum):
    INTERCHANGE = "interchange"
    GROUP = "group"
    TRANSACTION = "transaction"


@dataclass(frozen=True)
class X12Error:
    """One thing wrong, with the standard's code where it has one: TA1 note codes (I-codes, e.g.
    `001` control number mismatch) for interchanges, AK9/AK5 codes for groups and transaction sets
    (e.g. AK5 `4` number of included segments does not match actual count), AK3/AK4 codes for
    segments and elements."""

    level: Level
    code: str
    message: str
    position: int | None = None
    tag: str | None = None


@dataclass
class TransactionSet:
    code: str  # ST01: 810, 850, 855, 856, 832, 997, 999, ...
    control_number: str  # ST02
    segments: list[Segment]  # ST through SE, inclusive
    position: int
    errors: list[X12Error] = field(default_factory=list)

    @property
    def body(self) -> list[Segment]:
        """The segments between ST and SE."""
        return self.segments[1:-1] if len(self.segments) >= 2 and self.segments[-1].tag == "SE" else self.segments[1:]


@dataclass
class FunctionalGroup:
    functional_id: str  # GS01: IN (810), PO (850), PR (855), SH (856), SC (832), FA (997/999)
    sender: str  # GS02
    receiver: str  # GS03
    date: str
    time: str
    control_number: str  # GS06
    version: str  # GS08, e.g. 004010
    position: int
    transactions: list[TransactionSet] = field(default_factory=list)
    errors: list[X12Error] = field(default_factory=list)


@dataclass
class Interchange:
    sender_qualifier: str  # ISA05
    sender_id: str  # ISA06 (stripped)
    receiver_qualifier: str  # ISA07
    receiver_id: str  # ISA08
    date: str  # ISA09 YYMMDD
    time: str  # ISA10
    version: str  # ISA12, e.g. 00401
    control_number: str  # ISA13
    ack_requested: bool  # ISA14
    usage: str  # ISA15: P production, T test
    delimiters: Delimiters
    position: int
    groups: list[FunctionalGroup] = field(default_factory=list)
    errors: list[X12Error] = field(default_factory=list)
    # TA1 segments directly inside the interchange (an interchange acknowledgment received)
    ta1: list[Segment] = field(default_factory=list)
    # False for a stand-in the reader makes for data found outside any ISA...IEA (garbage, a file
    # that is not X12): no header fields, only its errors (TA1 022)
    enveloped: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors and all(not g.errors for g in self.groups)

    @property
    def all_errors(self) -> list[X12Error]:
        """Every error of the interchange, its groups and their transaction sets, in file order."""
        errors = [*self.errors]
        for group in self.groups:
            errors += group.errors
            for transaction in group.transactions:
                errors += transaction.errors
        return sorted(errors, key=lambda error: error.position or 0)
