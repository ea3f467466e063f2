"""The X12 tokenizer: bytes in, segments out, streaming, with the delimiters read from each ISA.

Decisions:
- The delimiters come from the ISA, not from a fixed column: the element separator is the byte
  after `ISA`, ISA16 (the component separator) is the byte after the 16th element separator and
  the segment terminator the byte after ISA16. Counting separators instead of columns reads ISAs
  whose fields are not padded to their fixed width, as real senders write them. ISA11 is the
  repetition separator only in version 00402 and later, and only when it is not `U` (or a letter
  or digit); before that it is the standards identifier.
- A newline may be the terminator (the byte after ISA16 is CR or LF; CR LF is recorded as "\\r\\n").
  Line breaks that are not the terminator are not data (X12 values have no CR or LF): CR LF after
  a `~`, and files wrapped at a fixed width (even inside the ISA), read as if they were not
  there. Indentation of pretty-printed files is stripped from the start of segments. A whitespace
  character that is itself a delimiter is kept. Empty segments are skipped and not counted. A
  UTF-8 byte-order mark and leading whitespace (NUL and Ctrl-Z padding too) are allowed.
- Text is decoded per block as UTF-8, and a block that is not UTF-8 as Latin-1 (every byte is a
  character, nothing is lost); delimiters are single bytes, so a block is always cut between
  whole characters.
- Streaming: the input is read in blocks of at most `BLOCK_BYTES` (larger chunks are cut), each
  block cut after its last terminator, so memory does not grow with the file. Every segment
  that starts with `ISA` (after a terminator or a line break) starts a new interchange whose
  delimiters are read again from its bytes (several interchanges in one file, each with its
  own delimiters; an interchange without its IEA does not hide the next one).
- Bytes that are not X12 (no ISA where one must be, an ISA whose delimiters cannot be read) are
  one `Unreadable` token per run, with a TA1 note code; the tokenizer never raises on bad input.
- Positions are 1-based segment numbers from the start of the file; an unreadable run counts as
  one position.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from domain.x12.model import Delimiters, Segment

BLOCK_BYTES = 1 << 16
BOM = b"\xef\xbb\xbf"
ISA_SCAN_LIMIT = 512  # bytes; a real ISA is 106, a loosely padded one a little more
ISA_ELEMENTS = 16
_SKIPPED = b" \t\r\n\x0b\x0c\x1a\x00"  # whitespace, and the NUL / Ctrl-Z padding some systems add
_WHITESPACE = " \t\r\n"
_ISA_CANDIDATE = re.compile(rb"ISA(?:[^A-Za-z0-9\s]|$)")  # `ISA` and what may be an element separator


@dataclass(frozen=True)
class Unreadable:
    """Bytes that are not X12 (or an ISA whose delimiters cannot be read): an interchange-level
    problem with its TA1 note code (`022` invalid control structure, `026` invalid data element
    separator, ...) and the position it takes in the file."""

    position: int
    code: str
    message: str


ENVELOPE_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})


@dataclass(frozen=True, slots=True)
class SegmentBatch:
    """Consecutive segments of one interchange (same delimiters). `envelope_indexes` are the
    indexes of its envelope segments (ISA, IEA, GS, GE, ST, SE), so the envelope checks need not
    look at every body segment."""

    segments: list[Segment]
    delimiters: Delimiters
    envelope_indexes: list[int]


Token = SegmentBatch | Unreadable


@dataclass(frozen=True)
class _Isa:
    segment_text: list[str]  # ISA01..ISA16
    delimiters: Delimiters
    consumed: int  # bytes of the ISA, its terminator included


@dataclass(frozen=True)
class _BadIsa:
    code: str
    message: str


def iter_segment_batches(chunks: Iterable[bytes]) -> Iterator[Token]:
    """The segments of the bytes in `chunks`, a block at a time, each batch with the delimiters
    of its interchange; an `Unreadable` for each run of bytes that is not X12."""
    return _Tokenizer().run(_blocks(chunks))


def _blocks(chunks: Iterable[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        if len(chunk) <= BLOCK_BYTES:
            if chunk:
                yield bytes(chunk)
            continue
        view = memoryview(chunk)
        for start in range(0, len(view), BLOCK_BYTES):
            yield bytes(view[start : start + BLOCK_BYTES])


def _decode(block: bytes, ascii_delimiters: bool) -> tuple[str, str]:
    if ascii_delimiters:
        try:
            return block.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    return block.decode("latin-1"), "latin-1"


class _Tokenizer:
    def __init__(self) -> None:
        self.position = 0
        self.delimiters: Delimiters | None = None  # None: an ISA is expected next
        self.in_garbage = False  # an Unreadable was reported for the run being skipped
        self.at_start = True

    def run(self, blocks: Iterator[bytes]) -> Iterator[Token]:
        buffer = b""
        eof = False
        hungry = True  # the buffer cannot be processed further without more bytes
        while True:
            if hungry and not eof:
                block = next(blocks, None)
                if block is None:
                    eof = True
                else:
                    buffer = buffer + block if buffer else block
            if self.delimiters is None:
                buffer, token, progressed = self._expect_isa(buffer, eof)
                if token is not None:
                    yield token
                if not progressed and eof:
                    if self.at_start:  # nothing but whitespace, or nothing at all
                        yield Unreadable(1, "022", "not X12: the data is empty (no ISA segment)")
                    return
                hungry = not progressed or not buffer
                continue
            if not buffer:
                if eof:
                    return
                hungry = True
                continue
            cut = self._cut(buffer)
            if cut == 0 and not eof and len(buffer) < 4 * BLOCK_BYTES:
                hungry = True
                continue
            if eof or cut == 0:
                cut = len(buffer)  # the last segment may have no terminator
            batch, rest = self._segments(buffer[:cut])
            buffer = rest + buffer[cut:] if rest else buffer[cut:]
            if rest:
                self.delimiters = None
            if batch.segments:
                yield batch
            hungry = not buffer or (self.delimiters is not None and self._cut(buffer) == 0)

    def _cut(self, buffer: bytes) -> int:
        """Where the last complete segment of `buffer` ends (0: none yet)."""
        assert self.delimiters is not None
        return buffer.rfind(self.delimiters.segment[0].encode("latin-1")) + 1

    def _expect_isa(self, buffer: bytes, eof: bool) -> tuple[bytes, Token | None, bool]:
        """Skip what may precede an ISA; read the ISA, or report and skip what is not one.
        Returns the rest of the buffer, a token (the ISA's batch or an Unreadable) and whether
        anything was consumed."""
        start = 0
        if self.at_start and buffer[:3] == BOM[: len(buffer[:3])]:
            if len(buffer) < 3 and not eof:
                return buffer, None, False
            start = 3 if buffer.startswith(BOM) else 0
        stripped = buffer[start:].lstrip(_SKIPPED)
        skipped = len(buffer) - len(stripped)
        if not stripped:
            return b"", None, skipped > 0
        if len(stripped) < 3 and not eof:
            return stripped, None, skipped > 0
        self.at_start = False
        if not stripped.startswith(b"ISA"):
            return self._skip_garbage(stripped, eof, self._not_x12(stripped))
        isa = _read_isa(stripped, eof)
        if isa is None:
            return stripped, None, skipped > 0
        if isinstance(isa, _BadIsa):
            return self._skip_garbage(stripped, eof, isa, after=3)
        self.in_garbage = False
        self.delimiters = isa.delimiters
        self.position += 1
        segment = Segment("ISA", tuple(isa.segment_text), self.position)
        return stripped[isa.consumed :], SegmentBatch([segment], isa.delimiters, [0]), True

    def _not_x12(self, data: bytes) -> _BadIsa:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return _BadIsa("022", "not X12: the file is UTF-16 text; X12 is ASCII or UTF-8")
        shown = data[:40].decode("latin-1").split("\n")[0].strip()
        return _BadIsa("022", f"not X12: an interchange must start with an ISA segment, found {shown!r}")

    def _skip_garbage(self, data: bytes, eof: bool, bad: _BadIsa, after: int = 1) -> tuple[bytes, Token | None, bool]:
        """Skip to the next `ISA` (or the end); one Unreadable per run of skipped bytes."""
        candidate = _ISA_CANDIDATE.search(data, after)
        found = candidate.start() if candidate else -1
        if found == -1:
            keep = 0 if eof else 2  # an `ISA` may be cut between two blocks
            found = max(len(data) - keep, 1)
        token: Token | None = None
        if not self.in_garbage:
            self.position += 1
            token = Unreadable(self.position, bad.code, bad.message)
            self.in_garbage = True
        return data[found:], token, True

    def _segments(self, block: bytes) -> tuple[SegmentBatch, bytes]:
        """The segments of `block` (whole segments), and the bytes from an ISA on, if one starts
        in it: those are read again with that ISA's own delimiters."""
        delimiters = self.delimiters
        assert delimiters is not None
        terminator = delimiters.segment[0]
        ascii_delimiters = (
            delimiters.element + terminator + delimiters.component + (delimiters.repetition or "")
        ).isascii()
        text, codec = _decode(block, ascii_delimiters)
        if "ISA" in text:  # rare: only then look for an interchange starting in this block
            found = _isa_start(terminator).search(text)
            if found:
                head, rest = text[: found.start()], text[found.start() :]
                return self._segments_of(head, delimiters), rest.encode(codec)
        return self._segments_of(text, delimiters), b""

    def _segments_of(self, text: str, delimiters: Delimiters) -> SegmentBatch:
        """Line breaks that are not the terminator are not data (X12 has no CR or LF in values):
        they go first, in one pass; indentation is stripped per segment only when there is any."""
        terminator, separator = delimiters.segment[0], delimiters.element
        used = (separator, delimiters.component, delimiters.repetition, terminator)
        for line_break in "\r\n":
            if line_break not in used and line_break in text:
                text = text.replace(line_break, "")
        indent = "".join(c for c in " \t" if c not in used)
        indented = text[:1] in (" ", "\t") or any(terminator + c in text for c in indent)
        segments: list[Segment] = []
        envelope_indexes: list[int] = []
        append = segments.append
        position = self.position
        make = tuple.__new__  # Segment is a NamedTuple: built straight from its three values
        for part in text.split(terminator):
            if indented:
                part = part.lstrip(indent)
            if part:
                position += 1
                fields = part.split(separator)
                tag = fields[0]
                if tag in ENVELOPE_TAGS:
                    envelope_indexes.append(len(segments))
                append(make(Segment, (tag, tuple(fields[1:]), position)))
        self.position = position
        return SegmentBatch(segments, delimiters, envelope_indexes)


@functools.cache
def _isa_start(terminator: str) -> re.Pattern[str]:
    """A segment that starts with `ISA` and a delimiter: at the start of a block, after a
    terminator or after a line break (so that a line of garbage cannot swallow the next ISA)."""
    return re.compile(rf"(?:^|(?<=[{re.escape(terminator)}\r\n]))[ \t\r\n]*ISA(?=[^A-Za-z0-9])")


def _read_isa(data: bytes, eof: bool) -> _Isa | _BadIsa | None:
    """The ISA at the start of `data`; None when more bytes are needed to tell."""
    if len(data) < 4:
        return None if not eof else _BadIsa("023", "the file ends inside the ISA segment")
    separator = data[3:4]
    if separator.isalnum() or separator in _SKIPPED:
        return _BadIsa("026", f"ISA: the data element separator {separator.decode('latin-1')!r} is not a delimiter")
    at = 3
    for _ in range(ISA_ELEMENTS - 1):
        at = data.find(separator, at + 1, ISA_SCAN_LIMIT)
        if at == -1:
            if not eof and len(data) < ISA_SCAN_LIMIT:
                return None
            return _BadIsa(
                "022", f"ISA: fewer than {ISA_ELEMENTS} elements separated by {separator.decode('latin-1')!r}"
            )
    if len(data) < at + 3 and not eof:
        return None
    if len(data) < at + 2:
        return _BadIsa("023", "the file ends inside the ISA segment (no ISA16)")
    component = data[at + 1 : at + 2]
    terminator = data[at + 2 : at + 3]
    if component == separator or component.isalnum() or component in b" \r\n":
        return _BadIsa("027", f"ISA16: the component element separator {component.decode('latin-1')!r} is not valid")
    if not terminator or terminator in (separator, component) or terminator.isalnum() or terminator in b" \t":
        found = terminator.decode("latin-1") or "the end of the file"
        return _BadIsa("004", f"ISA: the segment terminator after ISA16 is not valid ({found!r})")
    consumed = at + 3
    segment_end = terminator.decode("latin-1")
    if terminator == b"\r" and data[consumed : consumed + 1] == b"\n":
        segment_end = "\r\n"
    fields = [*data[4:at].split(separator), component]
    # a line break inside the ISA (a file wrapped at a fixed width) is not data, as elsewhere
    texts = [field.replace(b"\r", b"").replace(b"\n", b"").decode("utf-8", errors="replace") for field in fields]
    return _Isa(texts, _delimiters(texts, separator, component, segment_end), consumed)


def _delimiters(isa: list[str], separator: bytes, component: bytes, segment: str) -> Delimiters:
    version, repetition = isa[11].strip(), isa[10]
    uses_repetition = (
        version.isdigit()
        and version >= "00402"
        and len(repetition) == 1
        and not repetition.isalnum()
        and repetition.encode("latin-1", errors="replace") not in (separator, component, segment[0].encode("latin-1"))
    )
    return Delimiters(
        element=separator.decode("latin-1"),
        component=component.decode("latin-1"),
        repetition=repetition if uses_repetition else None,
        segment=segment,
    )
