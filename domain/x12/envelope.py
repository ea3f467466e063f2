"""The envelope checks: segments in, interchanges, functional groups and transaction sets out,
each closed as soon as its trailer is read, with what is wrong with it as data (never raised).

Codes are the standard's, by level, so acknowledgments can carry them as they are:
- interchange: TA1 interchange note codes (TA105), e.g. `001` control numbers differ, `021`
  wrong group count, `023` premature end (IEA missing), `024` invalid content (a segment outside
  the group/transaction structure), `022` invalid control structure (not X12, or data outside any
  ISA...IEA);
- group: AK9 functional group syntax error codes (AK905), e.g. `3` GE missing, `4` control
  numbers differ, `5` wrong transaction set count;
- transaction set: AK5 transaction set syntax error codes (AK502), e.g. `2` SE missing, `3`
  control numbers differ, `4` wrong segment count.

Decisions:
- A missing trailer is reported on the header that lacks it (its position and tag), saying
  where the envelope ended instead; the open envelopes are closed there.
- Segments outside the structure (a body segment between SE and ST, an ST without a GS, data
  after the IEA) are one error per contiguous run, on the first segment of the run. Data outside
  any ISA...IEA (garbage before, between or after interchanges, a file that is not X12) is
  reported on a stand-in `Interchange` with `enveloped=False` and empty header fields, so every
  error belongs to an interchange and a reader of the list sees it in file order.
- TA1 segments directly inside an interchange (an interchange acknowledgment) are not errors:
  they are kept on `Interchange.ta1`.
- Control numbers are compared as numbers when both are digits (`3438` repeats `000003438`:
  real senders drop the padding, and the number is what identifies the envelope), else as
  written.
- Streaming (`keep=False`): interchanges and groups are passed along without their children,
  so memory is one transaction set at a time; with `keep=True` the full tree is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from domain.x12.model import Delimiters, FunctionalGroup, Interchange, Level, Segment, TransactionSet
from domain.x12.tokenizer import Token, Unreadable
from domain.x12.trailers import digits, envelope_error, trailer_errors


@dataclass(frozen=True)
class TransactionRead:
    """A transaction set, as soon as its SE is read (or its envelope ended without one), with
    the headers of the interchange and group it came in (their errors are known at their close)."""

    interchange: Interchange
    group: FunctionalGroup
    transaction: TransactionSet


@dataclass(frozen=True)
class GroupClosed:
    """A functional group ended (its GE, or where it ended without one); `group.errors` is final."""

    interchange: Interchange
    group: FunctionalGroup
    transaction_count: int


@dataclass(frozen=True)
class InterchangeClosed:
    """An interchange ended (its IEA, or where it ended without one); `interchange.errors` is final."""

    interchange: Interchange
    group_count: int


ReadEvent = TransactionRead | GroupClosed | InterchangeClosed


def read_events(tokens: Iterable[Token], *, keep: bool) -> Iterator[ReadEvent]:
    """The envelopes of the segments in `tokens`, each event as soon as it is known. Body
    segments go to the open transaction set a run at a time (between envelope segments)."""
    state = _Envelopes(keep)
    for token in tokens:
        if isinstance(token, Unreadable):
            yield from state.on_unreadable(token)
            continue
        segments, delimiters = token.segments, token.delimiters
        start = 0
        for index in (*token.envelope_indexes, len(segments)):
            if index > start:
                yield from state.on_body(segments[start:index], delimiters)
            if index < len(segments):
                yield from state.on_control(segments[index], delimiters)
            start = index + 1
    yield from state.finish()


class _Envelopes:
    """The open interchange, group and transaction set, and the checks at each header and trailer."""

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.interchange: Interchange | None = None
        self.group: FunctionalGroup | None = None
        self.transaction: TransactionSet | None = None
        self.body: list[Segment] | None = None  # the open transaction set's segments
        self.groups = 0  # in the open interchange
        self.transactions = 0  # in the open group
        self.last_stray = -2  # position of the last segment reported or covered as outside the structure

    # -- dispatch --------------------------------------------------------------------------------

    def on_control(self, segment: Segment, delimiters: Delimiters) -> list[ReadEvent]:
        """An envelope segment, or any segment while no transaction set is open."""
        tag = segment.tag
        if tag == "ISA":
            return self._open_interchange(segment, delimiters)
        interchange = self.interchange
        if interchange is None or not interchange.enveloped:
            return self._stray(segment, delimiters)
        if tag == "IEA":
            return self._close_interchange(segment)
        if tag == "GS":
            return [*self._end_group(f"the next GS at segment {segment.position}"), *self._open_group(segment)]
        if tag == "GE":
            return self._close_group(segment) if self.group is not None else self._stray(segment, delimiters)
        if tag == "ST":
            if self.group is None:
                return self._stray(segment, delimiters)
            events = self._end_transaction(f"the next ST at segment {segment.position}")
            self._open_transaction(segment)
            return events
        if tag == "SE" and self.transaction is not None:
            return self._close_transaction(segment)
        if tag == "TA1" and self.group is None:
            interchange.ta1.append(segment)
            return []
        return self._stray(segment, delimiters)

    def on_body(self, segments: list[Segment], delimiters: Delimiters) -> list[ReadEvent]:
        """Segments that are not envelope segments: the open transaction set's, else out of place."""
        if self.body is not None:
            self.body.extend(segments)
            return []
        events: list[ReadEvent] = []
        for segment in segments:
            events += self.on_control(segment, delimiters)
        return events

    def on_unreadable(self, unreadable: Unreadable) -> list[ReadEvent]:
        events: list[ReadEvent] = []
        if self.interchange is not None and self.interchange.enveloped:
            events = self._end_interchange(f"unreadable data at segment {unreadable.position}")
        placeholder = self._placeholder(Delimiters(), unreadable.position)
        error = envelope_error(Level.INTERCHANGE, unreadable.code, unreadable.message, unreadable.position)
        placeholder.errors.append(error)
        self.last_stray = unreadable.position
        return events

    def finish(self) -> list[ReadEvent]:
        return self._end_interchange("the end of the file")

    # -- interchange -----------------------------------------------------------------------------

    def _open_interchange(self, isa: Segment, delimiters: Delimiters) -> list[ReadEvent]:
        events = self._end_interchange(f"the next ISA at segment {isa.position}")
        e = isa.element
        self.interchange = interchange = Interchange(
            sender_qualifier=e(5),
            sender_id=e(6),
            receiver_qualifier=e(7),
            receiver_id=e(8),
            date=e(9),
            time=e(10),
            version=e(12),
            control_number=e(13),
            ack_requested=e(14) == "1",
            usage=e(15),
            delimiters=delimiters,
            position=isa.position,
        )
        if not digits(interchange.control_number):
            interchange.errors.append(
                envelope_error(Level.INTERCHANGE, "018", f"ISA13 is {e(13)!r}, not a number", isa.position, "ISA")
            )
        self.groups = 0
        return events

    def _close_interchange(self, iea: Segment) -> list[ReadEvent]:
        interchange = self.interchange
        assert interchange is not None
        events = self._end_group(f"the IEA at segment {iea.position}")
        interchange.errors += trailer_errors(Level.INTERCHANGE, ("001", "021"), ("ISA13", interchange.control_number),
                                             iea, self.groups, "the interchange has {}")  # fmt: skip
        self.interchange = None
        return [*events, InterchangeClosed(interchange, self.groups)]

    def _end_interchange(self, where: str) -> list[ReadEvent]:
        """Close whatever is open, at `where`, without its trailers."""
        interchange = self.interchange
        if interchange is None:
            return []
        events = self._end_group(where)
        if interchange.enveloped:
            detail = f"no IEA for the ISA {interchange.control_number!r} before {where}"
            interchange.errors.append(envelope_error(Level.INTERCHANGE, "023", detail, interchange.position, "ISA"))
        self.interchange = None
        return [*events, InterchangeClosed(interchange, self.groups)]

    def _placeholder(self, delimiters: Delimiters, position: int) -> Interchange:
        """The open stand-in interchange for data outside any ISA...IEA (opened if none is)."""
        if self.interchange is None:
            self.interchange = Interchange(
                "", "", "", "", "", "", "", "", False, "", delimiters, position, enveloped=False
            )
            self.groups = 0
        return self.interchange

    def _stray(self, segment: Segment, delimiters: Delimiters) -> list[ReadEvent]:
        contiguous = segment.position == self.last_stray + 1
        self.last_stray = segment.position
        if contiguous:
            return []
        if self.interchange is None or not self.interchange.enveloped:
            placeholder = self._placeholder(delimiters, segment.position)
            detail = f"segment {segment.tag} at {segment.position} is outside any interchange (ISA...IEA)"
            placeholder.errors.append(envelope_error(Level.INTERCHANGE, "022", detail, segment.position, segment.tag))
            return []
        outside = "a functional group (GS...GE)" if self.group is None else "a transaction set (ST...SE)"
        detail = f"segment {segment.tag} at {segment.position} is outside {outside}"
        self.interchange.errors.append(envelope_error(Level.INTERCHANGE, "024", detail, segment.position, segment.tag))
        return []

    # -- functional group ------------------------------------------------------------------------

    def _open_group(self, gs: Segment) -> list[ReadEvent]:
        e = gs.element
        self.group = group = FunctionalGroup(
            functional_id=e(1),
            sender=e(2),
            receiver=e(3),
            date=e(4),
            time=e(5),
            control_number=e(6),
            version=e(8),
            position=gs.position,
        )
        if not digits(group.control_number):
            group.errors.append(envelope_error(Level.GROUP, "6", f"GS06 is {e(6)!r}, not a number", gs.position, "GS"))
        self.groups += 1
        self.transactions = 0
        interchange = self.interchange
        if self.keep and interchange is not None:
            interchange.groups.append(group)
        return []

    def _close_group(self, ge: Segment) -> list[ReadEvent]:
        group = self.group
        assert group is not None
        events = self._end_transaction(f"the GE at segment {ge.position}")
        group.errors += trailer_errors(Level.GROUP, ("4", "5"), ("GS06", group.control_number), ge,
                                       self.transactions, "the group has {}")  # fmt: skip
        self.group = None
        assert self.interchange is not None
        return [*events, GroupClosed(self.interchange, group, self.transactions)]

    def _end_group(self, where: str) -> list[ReadEvent]:
        group = self.group
        if group is None:
            return []
        events = self._end_transaction(where)
        detail = f"no GE for the GS {group.control_number!r} before {where}"
        group.errors.append(envelope_error(Level.GROUP, "3", detail, group.position, "GS"))
        self.group = None
        assert self.interchange is not None
        return [*events, GroupClosed(self.interchange, group, self.transactions)]

    # -- transaction set -------------------------------------------------------------------------

    def _open_transaction(self, st: Segment) -> None:
        self.body = [st]
        self.transaction = transaction = TransactionSet(st.element(1), st.element(2), self.body, st.position)
        if not transaction.code:
            transaction.errors.append(envelope_error(Level.TRANSACTION, "6", "ST01 is empty", st.position, "ST"))
        if not transaction.control_number:
            transaction.errors.append(envelope_error(Level.TRANSACTION, "7", "ST02 is empty", st.position, "ST"))
        self.transactions += 1

    def _close_transaction(self, se: Segment) -> list[ReadEvent]:
        transaction = self.transaction
        assert transaction is not None and self.body is not None
        self.body.append(se)
        holds = "the transaction set has {} segments (ST through SE)"
        transaction.errors += trailer_errors(Level.TRANSACTION, ("3", "4"), ("ST02", transaction.control_number), se,
                                             len(self.body), holds)  # fmt: skip
        return self._emit_transaction()

    def _end_transaction(self, where: str) -> list[ReadEvent]:
        transaction = self.transaction
        if transaction is None:
            return []
        detail = f"no SE for the ST {transaction.code} {transaction.control_number!r} before {where}"
        transaction.errors.append(envelope_error(Level.TRANSACTION, "2", detail, transaction.position, "ST"))
        return self._emit_transaction()

    def _emit_transaction(self) -> list[ReadEvent]:
        transaction, group, interchange = self.transaction, self.group, self.interchange
        assert transaction is not None and group is not None and interchange is not None
        self.transaction = self.body = None
        if self.keep:
            group.transactions.append(transaction)
        return [TransactionRead(interchange, group, transaction)]
