"""The envelope checks the standard names: its codes (TA1 interchange notes, AK9 group and AK5
transaction-set errors) with their text, and the one trailer check of IEA, GE and SE (element 2
repeats the header's control number, element 1 counts what the envelope holds)."""

from __future__ import annotations

from domain.x12.model import Level, Segment, X12Error

TA1_NOTE_CODES = {
    "001": "The Interchange Control Number in the Header and Trailer Do Not Match",
    "004": "The Segment Terminator is Invalid",
    "018": "Invalid Interchange Control Number Value",
    "021": "Invalid Number of Included Groups Value",
    "022": "Invalid Control Structure",
    "023": "Improper (Premature) End-of-File (Transmission)",
    "024": "Invalid Interchange Content (e.g., Invalid GS Segment)",
    "026": "Invalid Data Element Separator",
    "027": "Invalid Component Element Separator",
}
AK9_CODES = {
    "3": "Functional Group Trailer Missing",
    "4": "Group Control Number in the Functional Group Header and Trailer Do Not Agree",
    "5": "Number of Included Transaction Sets Does Not Match Actual Count",
    "6": "Group Control Number Violates Syntax",
}
AK5_CODES = {
    "2": "Transaction Set Trailer Missing",
    "3": "Transaction Set Control Number in Header and Trailer Do Not Match",
    "4": "Number of Included Segments Does Not Match Actual Count",
    "6": "Missing or Invalid Transaction Set Identifier",
    "7": "Missing or Invalid Transaction Set Control Number",
}
_STANDARD_TEXT = {Level.INTERCHANGE: TA1_NOTE_CODES, Level.GROUP: AK9_CODES, Level.TRANSACTION: AK5_CODES}


def envelope_error(level: Level, code: str, detail: str, position: int | None, tag: str | None = None) -> X12Error:
    """An error whose message is the standard's text for `code`, then what was found."""
    return X12Error(level, code, f"{_STANDARD_TEXT[level][code]}: {detail}", position, tag)


def digits(value: str) -> bool:
    """ASCII digits only (`str.isdigit` also takes `²`, which `int` refuses)."""
    return value.isascii() and value.isdigit()


def _count(value: str) -> int | None:
    return int(value) if digits(value) else None


def _same_control(header: str, trailer: str) -> bool:
    return int(header) == int(trailer) if digits(header) and digits(trailer) else header == trailer


def trailer_errors(
    level: Level, codes: tuple[str, str], header: tuple[str, str], trailer: Segment, counted: int, holds: str
) -> list[X12Error]:
    """The one check of IEA, GE and SE: element 2 repeats the header's control number (`header`:
    its name and value) and element 1 counts what the envelope holds (`holds`: `the group has {}`).
    `codes`: the standard's codes for the two mismatches."""
    (name, value), declared, control = header, trailer.element(1), trailer.element(2)
    errors = []
    if not _same_control(value, control):
        detail = f"{name} is {value!r}, {trailer.tag}02 is {control!r}"
        errors.append(envelope_error(level, codes[0], detail, trailer.position, trailer.tag))
    if _count(declared) != counted:
        detail = f"{trailer.tag}01 says {declared!r}, {holds.format(counted)}"
        errors.append(envelope_error(level, codes[1], detail, trailer.position, trailer.tag))
    return errors
