"""The acknowledgements we send: a 997 or 999 for every functional group received, a TA1 for an
interchange refused as a whole.

Decisions:
- We answer as the party the partner addressed (its ISA07/08 and GS03) unless told otherwise, to
  its sender, with its delimiters; a 997 keeps the received ISA12/GS08 versions, a 999 is 5010
  (ISA12 00501, GS08 and ST03 005010X231A1, AK1 and AK2 carrying the versions).
- Per transaction set (AK2 + AK5/IK5): the envelope checks' errors of the set (the reader's
  X12Errors: AK5 codes such as 3 or 4) reject it (R); segment errors (`SegmentError`, AK3/AK4 or
  IK3/IK4) reject it too, unless marked `rejects=False`, which makes it accepted with errors (E),
  and add AK5 code 5 when the set has no code of its own. Extra errors are attributed to the set
  whose segments contain their position; level-GROUP errors (AK9 codes such as 4 or 5) reject
  the group.
- AK9: R when the group has errors of its own or every set is rejected, P when some are, E when
  some were accepted with errors, else A. AK902 and AK903 are the sets read (the reader keeps no
  GE01 value; a GE01 that differs is already AK9 code 5), AK904 those accepted (A or E).
- Interchange-level problems are the TA1's, never the 997's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from domain.x12.context import MappingError
from domain.x12.functional_ack import SEGMENT_IN_ERROR, TA1_NO_ERROR, AckKind, AckStatus
from domain.x12.model import Delimiters, FunctionalGroup, Interchange, Level, TransactionSet, X12Error
from domain.x12.writer import ControlNumbers, Envelope, Party, TransactionBody, interchange

VERSION_999 = "005010X231A1"
ISA_VERSION_999 = "00501"
MAX_CODES = 5  # AK502..AK506, AK905..AK909
_REPETITION_CANDIDATES = "^|{}!"
_ELEMENT_REF = re.compile(r"^([A-Z][A-Z0-9]{1,2})(\d{2})")


@dataclass(frozen=True)
class SegmentError:
    """A segment (and optionally one element of it) in error, by its position in the file."""

    position: int  # the segment's 1-based position in the file
    tag: str  # AK301
    code: str | None = "8"  # AK304; 8 = segment has data element errors
    element: int | None = None  # AK401
    component: int | None = None
    element_code: str | None = None  # AK403, e.g. 7 invalid code value
    reference: str | None = None  # AK402 data element reference number
    rejects: bool = True

    @classmethod
    def from_mapping(cls, error: MappingError, *, rejects: bool = True) -> SegmentError | None:
        """The syntax error a MappingError amounts to, when it has one (its `syntax_code`)."""
        if error.syntax_code is None or error.position is None or not error.element:
            return None
        found = _ELEMENT_REF.match(error.element)  # PO103, IT106.. (the ids from IT106 on), N104
        tag, element = (found.group(1), int(found.group(2))) if found else (error.element, None)
        return cls(error.position, tag, "8", element, None, error.syntax_code, None, rejects)


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(code for code in codes if code))[:MAX_CODES]


def _within(ts: TransactionSet, position: int | None) -> bool:
    if position is None or not ts.segments:
        return False
    return ts.segments[0].position <= position <= ts.segments[-1].position


def reply_envelope(
    received: Interchange, group: FunctionalGroup | None, us: Party | None, control: ControlNumbers, now: datetime
) -> Envelope:
    """The envelope of an answer to `received` (and its `group`): addressed back to its sender, in
    its X12 version and delimiters, from `us` (else from whom it was addressed to)."""
    sender = us or Party(received.receiver_qualifier, received.receiver_id, group.receiver if group else "")
    receiver = Party(received.sender_qualifier, received.sender_id, group.sender if group else "")
    return Envelope(
        sender=sender,
        receiver=receiver,
        control=control,
        now=now,
        isa_version=received.version or "00401",
        gs_version=(group.version if group else "") or "004010",
        usage=received.usage or "P",
        delimiters=received.delimiters,
    )


def _with_repetition(delimiters: Delimiters) -> Delimiters:
    if delimiters.repetition:
        return delimiters
    used = {delimiters.element, delimiters.component, delimiters.segment}
    return replace(delimiters, repetition=next(ch for ch in _REPETITION_CANDIDATES if ch not in used))


def functional_ack(
    received: Interchange,
    group: FunctionalGroup,
    errors: Sequence[X12Error | SegmentError] = (),
    *,
    kind: AckKind = "997",
    control: ControlNumbers,
    now: datetime,
    us: Party | None = None,
) -> str:
    """The 997 (or 999) for `group` of `received`, as the text of a whole interchange."""
    prefix = "AK" if kind == "997" else "IK"
    segments: list[tuple[str, list[str]]] = [("AK1", [group.functional_id, group.control_number])]
    if kind == "999":
        segments[0][1].append(group.version)
    statuses: list[AckStatus] = []
    for ts in group.transactions:
        extra = [e for e in errors if isinstance(e, X12Error) and _within(ts, e.position)]
        codes = [e.code for e in [*ts.errors, *extra] if e.level is Level.TRANSACTION]
        noted = [e for e in errors if isinstance(e, SegmentError) and _within(ts, e.position)]
        rejected = bool(codes) or any(e.rejects for e in noted)
        status = AckStatus.REJECTED if rejected else AckStatus.ACCEPTED_WITH_ERRORS if noted else AckStatus.ACCEPTED
        if noted and not codes:
            codes.append(SEGMENT_IN_ERROR)
        statuses.append(status)
        ak2 = [ts.code, ts.control_number]
        if kind == "999" and ts.segments and ts.segments[0].element(3):
            ak2.append(ts.segments[0].element(3))
        segments.append(("AK2", ak2))
        segments += _segment_notes(ts, noted, prefix)
        segments.append((f"{prefix}5", [status.value, *_unique(codes)]))
    group_codes = [e.code for e in group.errors if e.level is Level.GROUP]
    group_codes += [e.code for e in errors if isinstance(e, X12Error) and e.level is Level.GROUP]
    accepted = sum(1 for status in statuses if status.accepts)
    counts = [str(len(statuses)), str(len(statuses)), str(accepted)]
    segments.append(("AK9", [_group_status(group_codes, statuses).value, *counts, *_unique(group_codes)]))
    env = reply_envelope(received, group, us, control, now)
    body = TransactionBody(kind, list(segments))
    if kind == "999":
        body = replace(body, convention=VERSION_999)
        env = replace(
            env, isa_version=ISA_VERSION_999, gs_version=VERSION_999, delimiters=_with_repetition(env.delimiters)
        )
    return interchange(env, "FA", [body], [])


def _group_status(group_codes: list[str], statuses: list[AckStatus]) -> AckStatus:
    rejected = [status for status in statuses if not status.accepts]
    if group_codes or (statuses and len(rejected) == len(statuses)):
        return AckStatus.REJECTED
    if rejected:
        return AckStatus.PARTIALLY_ACCEPTED
    if AckStatus.ACCEPTED_WITH_ERRORS in statuses:
        return AckStatus.ACCEPTED_WITH_ERRORS
    return AckStatus.ACCEPTED


def _segment_notes(ts: TransactionSet, noted: list[SegmentError], prefix: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    first = ts.segments[0].position
    for error in sorted(noted, key=lambda e: e.position):
        out.append((f"{prefix}3", [error.tag, str(error.position - first + 1), "", error.code or ""]))
        if error.element is not None and error.element_code:
            where = str(error.element) if error.component is None else f"{error.element}>{error.component}"
            out.append((f"{prefix}4", [where, error.reference or "", error.element_code]))
    return out


def ta1(
    received: Interchange,
    note_code: str,
    *,
    control: int,
    now: datetime,
    status: AckStatus | None = None,
    us: Party | None = None,
) -> str:
    """The TA1 for `received` (its ISA13, ISA09, ISA10), in an interchange of its own with no
    group. `note_code` is the TA1 note code (`000` no error, `001` control numbers differ, ...);
    the status is A for 000, else R (E must be asked for)."""
    if not received.control_number.isdigit():
        raise ValueError(f"interchange.control_number: {received.control_number!r} is no ISA13 to acknowledge")
    if not (len(note_code) == 3 and note_code.isdigit()):
        raise ValueError(f"note_code: {note_code!r} is not a three-digit TA1 note code")
    chosen = status or (AckStatus.ACCEPTED if note_code == TA1_NO_ERROR else AckStatus.REJECTED)
    if chosen not in (AckStatus.ACCEPTED, AckStatus.ACCEPTED_WITH_ERRORS, AckStatus.REJECTED):
        raise ValueError(f"status: {chosen.value} is not a TA1 acknowledgement code (A, E or R)")
    env = reply_envelope(received, None, us, ControlNumbers(control, 1), now)
    row = [received.control_number, received.date, received.time, chosen.value, note_code]
    return interchange(env, None, [], [("TA1", row)])
