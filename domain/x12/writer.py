"""Writing X12: segments, and the interchange / group / transaction set envelopes around them,
with counts and control numbers right by construction. The documents we send are in acks.py
(997, 999, TA1) and outbound.py (850).

Decisions:
- The caller allocates control numbers (ISA13, GS06, ST02: the intake's counters); ST02 of the
  n-th set of a group is `transaction + n`, zero-padded to four digits, ISA13 to nine.
- Identifiers (ids, codes, numbers) containing a delimiter are refused (ValueError naming the
  segment and element); free text (names, descriptions) has delimiter characters replaced by
  spaces and is cut to the element's maximum length.
- Trailing empty elements are dropped; a newline follows each segment terminator unless the
  terminator is itself a newline (readers tolerate it, people can read the file).
- Times are the caller's `now`, written as given (we send UTC).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from domain.x12.model import Delimiters

STANDARD = Delimiters(element="*", component=">", repetition=None, segment="~")
_ISA_ID = re.compile(r"^(?! *$)[\x20-\x7e]{1,15}$")
MAX_CONTROL_NUMBER = 999_999_999


@dataclass(frozen=True)
class Party:
    """One side of an interchange: ISA05/06 (or 07/08) and GS02 (or GS03)."""

    qualifier: str  # ISA05/07, e.g. ZZ mutually defined, 01 DUNS, 14 DUNS+4
    id: str  # ISA06/08 (padded to 15 when written)
    group_id: str = ""  # GS02/03; the ISA id when empty

    def __post_init__(self) -> None:
        if not _ISA_ID.match(self.id):
            raise ValueError(f"party id {self.id!r}: 1 to 15 printable characters (ISA06/ISA08)")
        if not re.fullmatch(r"[A-Z0-9]{2}", self.qualifier):
            raise ValueError(f"party qualifier {self.qualifier!r}: two letters or digits (ISA05/ISA07)")

    @property
    def gs_id(self) -> str:
        return self.group_id or self.id


@dataclass(frozen=True)
class ControlNumbers:
    interchange: int  # ISA13 / IEA02
    group: int  # GS06 / GE02
    transaction: int = 1  # ST02 / SE02 of the first set

    def __post_init__(self) -> None:
        for name in ("interchange", "group", "transaction"):
            value = getattr(self, name)
            if not 1 <= value <= MAX_CONTROL_NUMBER:
                raise ValueError(f"control number {name}: {value} is not between 1 and {MAX_CONTROL_NUMBER}")


@dataclass(frozen=True)
class TransactionBody:
    """The segments of one set between ST and SE, each a tag and its elements."""

    code: str  # ST01
    segments: list[tuple[str, Sequence[str]]]
    convention: str | None = None  # ST03 (5010 and later), e.g. 005010X231A1


@dataclass(frozen=True)
class Envelope:
    sender: Party
    receiver: Party
    control: ControlNumbers
    now: datetime
    isa_version: str = "00401"  # ISA12
    gs_version: str = "004010"  # GS08
    usage: str = "P"  # ISA15: P production, T test
    ack_requested: bool = False  # ISA14: a TA1 wanted back
    delimiters: Delimiters = field(default_factory=lambda: STANDARD)
    line_breaks: bool = True


def number(value: Decimal | int) -> str:
    """An X12 `R` number: plain digits, no exponent, no trailing zeros (`38.40` -> `38.4`)."""
    return format(Decimal(value).normalize(), "f")


def implied_cents(value: Decimal) -> str:
    """An X12 `N2` amount: cents as digits (`1336.00` -> `133600`)."""
    return str(int((value * 100).to_integral_value()))


def free_text(value: str, delimiters: Delimiters, max_length: int) -> str:
    """Names and descriptions: delimiter characters become spaces; cut to `max_length`."""
    specials = {delimiters.element, delimiters.component, delimiters.segment, delimiters.repetition or "", "\r", "\n"}
    cleaned = "".join(" " if ch in specials else ch for ch in value)
    return " ".join(cleaned.split())[:max_length]


def segment(tag: str, elements: Sequence[str], delimiters: Delimiters) -> str:
    values = list(elements)
    while values and values[-1] == "":
        values.pop()
    specials = {delimiters.element, delimiters.segment, delimiters.component, delimiters.repetition}
    for index, value in enumerate(values, start=1):
        bad = next((ch for ch in value if ch in specials), None)
        if bad is not None:
            raise ValueError(f"{tag}{index:02d}: {value!r} contains the delimiter {bad!r}")
    return delimiters.element.join([tag, *values]) + delimiters.segment


def _isa(env: Envelope) -> str:
    d = env.delimiters
    for party in (env.sender, env.receiver):
        segment("ISA", [party.id, party.gs_id], d)  # refuses an id containing a delimiter
    repetition = d.repetition if env.isa_version >= "00402" and d.repetition else "U"
    elements = [
        "00", " " * 10, "00", " " * 10,
        env.sender.qualifier, env.sender.id.ljust(15), env.receiver.qualifier, env.receiver.id.ljust(15),
        env.now.strftime("%y%m%d"), env.now.strftime("%H%M"), repetition, env.isa_version,
        f"{env.control.interchange:09d}", "1" if env.ack_requested else "0", env.usage, d.component,
    ]  # fmt: skip
    return d.element.join(["ISA", *elements]) + d.segment


def interchange(
    env: Envelope,
    functional_id: str | None,
    sets: Sequence[TransactionBody],
    loose: Sequence[tuple[str, Sequence[str]]],
) -> str:
    """An interchange with one functional group of `sets` (when `functional_id` is given) and/or
    `loose` segments outside any group (a TA1)."""
    d = env.delimiters
    out = [_isa(env)]
    out += [segment(tag, elements, d) for tag, elements in loose]
    groups = 0
    if functional_id is not None:
        groups = 1
        gs = [functional_id, env.sender.gs_id, env.receiver.gs_id, env.now.strftime("%Y%m%d"), env.now.strftime("%H%M")]
        out.append(segment("GS", [*gs, str(env.control.group), "X", env.gs_version], d))
        for offset, body in enumerate(sets):
            control = f"{env.control.transaction + offset:04d}"
            st = [body.code, control, *([body.convention] if body.convention else [])]
            out.append(segment("ST", st, d))
            out += [segment(tag, elements, d) for tag, elements in body.segments]
            out.append(segment("SE", [str(len(body.segments) + 2), control], d))
        out.append(segment("GE", [str(len(sets)), str(env.control.group)], d))
    out.append(segment("IEA", [str(groups), f"{env.control.interchange:09d}"], d))
    newline = "\n" if env.line_breaks and not any(ch in d.segment for ch in "\r\n") else ""
    return newline.join(out) + newline
