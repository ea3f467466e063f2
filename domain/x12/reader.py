"""Reading X12: bytes in, segments and checked envelopes out. Pure (no I/O): the caller reads the
file, in chunks or whole.

- `iter_segments(chunks)`: every segment with its interchange's delimiters, streaming;
- `iter_transactions(chunks)`: each transaction set as soon as its SE is read, with the headers
  of its interchange and group, then each group's and interchange's close with the trailer checks
  (`TransactionRead`, `GroupClosed`, `InterchangeClosed`); memory is one transaction set at a
  time, so a 1,000-invoice file is never held whole;
- `read_interchanges(data)`: the whole tree (interchanges, groups, transaction sets, errors).

Bad input is data, never an exception: a file that is not X12, a broken envelope, a wrong count
are `X12Error`s on the interchange, group or transaction set concerned (domain/x12/envelope.py has
the codes and the decisions; domain/x12/tokenizer.py how bytes become segments).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from domain.x12.envelope import (
    GroupClosed,
    InterchangeClosed,
    ReadEvent,
    TransactionRead,
    read_events,
)
from domain.x12.model import Delimiters, Interchange, Segment
from domain.x12.tokenizer import BLOCK_BYTES, Unreadable, iter_segment_batches
from domain.x12.trailers import AK5_CODES, AK9_CODES, TA1_NOTE_CODES

__all__ = [
    "AK5_CODES",
    "AK9_CODES",
    "TA1_NOTE_CODES",
    "GroupClosed",
    "InterchangeClosed",
    "ReadEvent",
    "TransactionRead",
    "Unreadable",
    "iter_segments",
    "iter_transactions",
    "read_interchanges",
]


def _chunks(data: bytes | Iterable[bytes]) -> Iterable[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        return (bytes(view[start : start + BLOCK_BYTES]) for start in range(0, len(view), BLOCK_BYTES))
    return data


def iter_segments(data: bytes | Iterable[bytes]) -> Iterator[tuple[Segment, Delimiters] | Unreadable]:
    """Each segment with the delimiters of its interchange, in file order; an `Unreadable` for
    each run of bytes that is not X12 (its TA1 note code and position)."""
    for token in iter_segment_batches(_chunks(data)):
        if isinstance(token, Unreadable):
            yield token
        else:
            for segment in token.segments:
                yield segment, token.delimiters


def iter_transactions(data: bytes | Iterable[bytes]) -> Iterator[ReadEvent]:
    """The envelopes of `data` as events, streaming: a `TransactionRead` per transaction set as
    soon as it ends, a `GroupClosed` per group and an `InterchangeClosed` per interchange (and
    per stretch of data outside any interchange) when its trailer is read, with their errors.
    The interchange and group objects carried are headers only: their `groups` and
    `transactions` lists stay empty (collect what you need from the events)."""
    return read_events(iter_segment_batches(_chunks(data)), keep=False)


def read_interchanges(data: bytes | Iterable[bytes]) -> list[Interchange]:
    """Every interchange in `data` with its groups, transaction sets and errors, in file order.
    Data outside any ISA...IEA (or a file that is not X12 at all) is a stand-in interchange with
    `enveloped=False` carrying the error; an empty file is an empty list."""
    return [
        event.interchange
        for event in read_events(iter_segment_batches(_chunks(data)), keep=True)
        if isinstance(event, InterchangeClosed)
    ]
