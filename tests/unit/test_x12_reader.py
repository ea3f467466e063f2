"""The X12 reader: real files from other projects (tests/data/third_party/x12/) are read without
an exception, their transaction sets and segment counts are reported, and exactly the broken ones
are flagged, with the standard's codes; our examples; delimiters read from the ISA (newline and
CR LF terminators, repetition separators, BOMs, several interchanges); every envelope check;
streaming; and, generated: any bytes never crash the reader, and envelopes written with random
delimiters read back as written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.x12.model import Delimiters, Interchange, Level
from domain.x12.reader import (
    GroupClosed,
    InterchangeClosed,
    TransactionRead,
    Unreadable,
    iter_segments,
    iter_transactions,
    read_interchanges,
)

DATA = Path(__file__).resolve().parents[1] / "data"
THIRD_PARTY = DATA / "third_party" / "x12"
OURS = DATA / "edi"

# Every third-party file: its transaction sets as "code:segments", in file order.
TRANSACTION_SETS = {
    "EdiEngine/850.Composite.SLN.OK.edi": ["850:11"],
    "EdiEngine/850.OK.edi": ["850:33"],
    "EdiEngine/850.SyntaxNotes.ERR.edi": ["850:33"],
    "EdiEngine/856.Crossdock.OK.edi": ["856:57"],
    "EdiEngine/940.2.OK.edi": ["940:9"],
    "EdiEngine/940.OK.edi": ["940:29"],
    "EdiEngine/940.W05.Only.edi": ["940:3"],
    "EdiEngine/940_Failed_SE01.edi": ["940:9"],
    "EdiEngine/AckTest.edi": ["940:9", "940:9", "940:9"],
    "EdiEngine/ControlNumbersMismatch.edi": ["940:5"],
    "EdiEngine/MultipleInterchangesAndGroups.edi": ["940:5"] * 6,
    "EdiEngine/NonEdi.edi": [],
    "EdiEngine/WrongGroupsAndTranCount.edi": ["940:5"],
    "X12Parser/810-2011110815164104.txt": ["810:22"],
    "X12Parser/810-Example1_CaliforniaISO.txt": ["810:48"],
    "X12Parser/810-Example3_MultiInvoice.txt": ["810:29", "810:17"],
    "X12Parser/810-Example5_Walmart.txt": ["810:20"],
    "X12Parser/846-Example1.txt": ["846:16"],
    "X12Parser/846-Example2.txt": ["846:24"],
    "X12Parser/850-From_aojuk.txt": ["850:19"],
    "X12Parser/855-855SSimmons.txt": ["855:11", "855:9"],
    "X12Parser/855-Example1_Adobe.txt": ["855:43"],
    "X12Parser/856-Example1.txt": ["856:25"],
    "X12Parser/856-FromGregarican.txt": ["856:25"],
    "X12Parser/940-simplot.txt": ["940:27"],
    "X12Parser/999-DHS_Wisconsin_Sample.txt": ["999:16"],
    "X12Parser/TA1-TechnicalAcknowledgment_Sample1.txt": [],
    "X12Parser/TA1-TechnicalAcknowledgment_SampleFromJeffN825.txt": [],
    "node-x12/271.edi": ["271:38"],
    "node-x12/850.edi": ["850:33"],
    "node-x12/850_2.edi": ["850:33"],
    "node-x12/850_3.edi": ["850:14"],
    "node-x12/850_fat.edi": ["850:33", "850:33"],
    "node-x12/855.edi": ["855:26"],
    "node-x12/856.edi": ["856:31"],
    "stupidedi/003050-PO850-fail-1.edi": ["850:11"],
    "stupidedi/004010-FA997-pass-1.edi": ["997:6"],
    "stupidedi/004010-IN810-pass-1.edi": ["810:13"],
    "stupidedi/004010-PO850-pass-1.edi": ["850:5"],
    "stupidedi/004010-PR855-fail-2.edi": ["855:12"],
    "stupidedi/004010-PR855-pass-1.edi": ["855:7"],
    "stupidedi/004010-SC832-fail-1.edi": ["832:17"],
    "stupidedi/004010-SC832-fail-2.edi": ["832:1063"],
    "stupidedi/004010-SC855-basic-po-ack-rejected.edi": ["855:5"],
    "stupidedi/004010-SH856-fail-2.edi": ["856:22"],
    "stupidedi/005010-FA997-response-to-837s.edi": ["997:10"],
    "stupidedi/005010-FA999-response-to-3-837s.edi": ["999:16"],
}
# The broken ones, found by reading them (tests/data/third_party/x12/README.md says why), with
# the (level, code) of every error expected; every other file must read without any error.
BROKEN = {
    "EdiEngine/940_Failed_SE01.edi": {("transaction", "4")},
    "EdiEngine/ControlNumbersMismatch.edi": {("transaction", "3"), ("group", "4"), ("interchange", "001")},
    "EdiEngine/NonEdi.edi": {("interchange", "022")},
    "EdiEngine/WrongGroupsAndTranCount.edi": {("group", "5"), ("interchange", "021")},
    "X12Parser/940-simplot.txt": {("group", "4"), ("interchange", "001")},
    "node-x12/271.edi": {("group", "3"), ("interchange", "023")},
    "stupidedi/004010-SC832-fail-1.edi": {("transaction", "4")},
    "stupidedi/004010-SH856-fail-2.edi": {("transaction", "4")},
}


def third_party_files() -> list[str]:
    return sorted(
        f"{path.parent.name}/{path.name}" for path in THIRD_PARTY.glob("*/*") if path.suffix in (".edi", ".txt")
    )


def error_codes(interchanges: list[Interchange]) -> set[tuple[str, str]]:
    return {(error.level.value, error.code) for i in interchanges for error in i.all_errors}


def transaction_sets(interchanges: list[Interchange]) -> list[str]:
    return [f"{t.code}:{len(t.segments)}" for i in interchanges for g in i.groups for t in g.transactions]


def x12(*segments: str, terminator: str = "~\n") -> bytes:
    return "".join(segment + terminator for segment in segments).encode()


ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261218*1200*U*00401*000000001*0*P*>"
GOOD = (ISA, "GS*IN*SENDER*RECEIVER*20261218*1200*7*X*004010", "ST*810*0001", "BIG*20261218*INV-1",
        "SE*3*0001", "GE*1*7", "IEA*1*000000001")  # fmt: skip


def test_the_selection_covers_about_forty_files_and_every_broken_one_exists() -> None:
    assert third_party_files() == sorted(TRANSACTION_SETS)
    assert len(TRANSACTION_SETS) >= 40
    assert set(BROKEN) <= set(TRANSACTION_SETS)
    codes = {entry.split(":")[0] for sets in TRANSACTION_SETS.values() for entry in sets}
    assert {"810", "832", "846", "850", "855", "856", "940", "997", "999"} <= codes


@pytest.mark.parametrize("name", sorted(TRANSACTION_SETS))
def test_a_real_file_is_read_and_only_the_broken_ones_are_flagged(name: str) -> None:
    data = (THIRD_PARTY / name).read_bytes()
    interchanges = read_interchanges(data)
    assert transaction_sets(interchanges) == TRANSACTION_SETS[name]
    assert error_codes(interchanges) == BROKEN.get(name, set())
    for error in (e for i in interchanges for e in i.all_errors):
        assert error.message and error.position is not None
    streamed = [e.transaction for e in iter_transactions([data[i : i + 7] for i in range(0, len(data), 7)])
                if isinstance(e, TransactionRead)]  # fmt: skip
    assert [f"{t.code}:{len(t.segments)}" for t in streamed] == TRANSACTION_SETS[name]


def test_real_files_show_their_delimiters() -> None:
    def delimiters(name: str) -> Delimiters:
        return read_interchanges((THIRD_PARTY / name).read_bytes())[0].delimiters

    assert delimiters("stupidedi/004010-IN810-pass-1.edi") == Delimiters("|", ">", None, "~")
    assert delimiters("X12Parser/846-Example2.txt") == Delimiters("~", ">", None, "*")
    assert delimiters("X12Parser/810-Example5_Walmart.txt") == Delimiters("*", ">", None, "\r\n")
    assert delimiters("EdiEngine/850.OK.edi") == Delimiters("*", ">", None, "\n")
    assert delimiters("X12Parser/999-DHS_Wisconsin_Sample.txt") == Delimiters("*", ":", "^", "~")
    assert delimiters("node-x12/856.edi").repetition == "-"  # 00406
    assert delimiters("X12Parser/TA1-TechnicalAcknowledgment_Sample1.txt").repetition is None  # 00401: `U`
    ta1 = read_interchanges((THIRD_PARTY / "X12Parser/TA1-TechnicalAcknowledgment_Sample1.txt").read_bytes())[0]
    assert [s.element(1) for s in ta1.ta1] == ["0659", "0660"] and not ta1.groups and ta1.ok


def test_our_examples() -> None:
    expected = {"810-cascadia-invoice.edi": ["810:10"], "832-lakeshore-catalog.edi": ["832:9"],
                "855-cascadia-accept.edi": ["855:9"], "856-cascadia-asn.edi": ["856:20"]}  # fmt: skip
    for name, sets in expected.items():
        interchanges = read_interchanges((OURS / name).read_bytes())
        assert transaction_sets(interchanges) == sets and error_codes(interchanges) == set(), name
    [bad] = read_interchanges((OURS / "bad-envelope.edi").read_bytes())
    [error] = bad.all_errors
    assert (error.level, error.code, error.position, error.tag) == (Level.INTERCHANGE, "001", 10, "IEA")
    assert "000004104" in error.message and "000004111" in error.message
    assert "Header and Trailer Do Not Match" in error.message


# -- delimiters and tokenizing -------------------------------------------------------------------


def test_the_isa_gives_every_delimiter() -> None:
    isa = ISA.replace("*U*00401*", "*^*00501*").replace("*P*>", "*P*:").replace("*", "|")
    [segment, *_] = iter_segments(x12(isa, "GS|FA|A|B", terminator="\r\n"))
    assert isinstance(segment, tuple)
    assert segment[1] == Delimiters("|", ":", "^", "\r\n")
    assert segment[0].element(16) == ":" and segment[0].element(6) == "SENDER"


def test_u_is_no_repetition_separator_and_00401_has_none() -> None:
    [old] = read_interchanges(x12(*GOOD))
    assert old.delimiters.repetition is None
    [new] = read_interchanges(x12(GOOD[0].replace("*U*00401*", "*^*00501*"), *GOOD[1:]))
    assert new.delimiters.repetition == "^"


def test_bom_leading_whitespace_newlines_and_indentation_are_not_data() -> None:
    pretty = "\ufeff\r\n  " + "\r\n    ".join(segment + "~" for segment in GOOD) + "\r\n\r\n"
    [interchange] = read_interchanges(pretty.encode())
    assert not interchange.all_errors
    assert [s.tag for s in interchange.groups[0].transactions[0].segments] == ["ST", "BIG", "SE"]
    assert interchange.groups[0].transactions[0].segments[1].elements == ("20261218", "INV-1")


def test_newline_as_the_terminator_and_a_last_segment_without_one() -> None:
    text = "\n".join(GOOD)  # no newline after the IEA
    [interchange] = read_interchanges(text.encode())
    assert interchange.delimiters.segment == "\n" and not interchange.all_errors
    assert transaction_sets([interchange]) == ["810:3"]


def test_several_interchanges_each_with_its_own_delimiters() -> None:
    second = [s.replace("*", "|").replace("000000001", "000000002") for s in GOOD]
    data = x12(*GOOD) + "\n".join(second).encode()
    first, other = read_interchanges(data)
    assert (first.delimiters.element, first.delimiters.segment) == ("*", "~")
    assert (other.delimiters.element, other.delimiters.segment) == ("|", "\n")
    assert other.control_number == "000000002" and not first.all_errors and not other.all_errors
    assert [s.position for s in other.groups[0].transactions[0].segments] == [10, 11, 12]


def test_a_latin_1_file_is_read_and_utf_8_text_is_kept() -> None:
    name = "Hôpital Sainte-Anne"
    for encoding in ("utf-8", "latin-1"):
        data = x12(*GOOD[:3], f"N1*ST*{name}", "SE*3*0001", *GOOD[5:]).decode().encode(encoding)
        [interchange] = read_interchanges(data)
        assert interchange.groups[0].transactions[0].segments[1].element(2) == name


# -- the envelope checks -------------------------------------------------------------------------


def only(data: bytes) -> set[tuple[str, str, int | None, str | None]]:
    return {(e.level.value, e.code, e.position, e.tag) for i in read_interchanges(data) for e in i.all_errors}


def test_a_wrong_segment_count_and_transaction_control_number() -> None:
    assert only(x12(*GOOD[:4], "SE*4*0001", *GOOD[5:])) == {("transaction", "4", 5, "SE")}
    assert only(x12(*GOOD[:4], "SE*3*0002", *GOOD[5:])) == {("transaction", "3", 5, "SE")}
    assert only(x12(*GOOD[:4], "SE*three*0001", *GOOD[5:])) == {("transaction", "4", 5, "SE")}
    assert only(x12(*GOOD[:4], "SE*\u00b2*\u00b20001", *GOOD[5:])) == {
        ("transaction", "4", 5, "SE"),
        ("transaction", "3", 5, "SE"),
    }


def test_a_wrong_group_count_and_control_number() -> None:
    assert only(x12(*GOOD[:5], "GE*2*7", GOOD[6])) == {("group", "5", 6, "GE")}
    assert only(x12(*GOOD[:5], "GE*1*8", GOOD[6])) == {("group", "4", 6, "GE")}


def test_a_wrong_interchange_count_and_control_number() -> None:
    assert only(x12(*GOOD[:6], "IEA*2*000000001")) == {("interchange", "021", 7, "IEA")}
    assert only(x12(*GOOD[:6], "IEA*1*000000002")) == {("interchange", "001", 7, "IEA")}
    assert only(x12(*GOOD[:6], "IEA*1*1")) == set()  # the same number, unpadded


def test_missing_trailers_are_reported_on_their_header() -> None:
    assert only(x12(*GOOD[:4], *GOOD[5:])) == {("transaction", "2", 3, "ST")}
    assert only(x12(*GOOD[:5], GOOD[6])) == {("group", "3", 2, "GS")}
    assert only(x12(*GOOD[:6])) == {("interchange", "023", 1, "ISA")}
    truncated = only(x12(*GOOD[:4]))
    assert truncated == {("transaction", "2", 3, "ST"), ("group", "3", 2, "GS"), ("interchange", "023", 1, "ISA")}


def test_segments_outside_their_envelope() -> None:
    between = x12(*GOOD[:5], "REF*ZZ*STRAY", "REF*ZZ*STRAY", *GOOD[5:])
    assert only(between) == {("interchange", "024", 6, "REF")}  # one error for the run
    no_group = x12(GOOD[0], "ST*810*0001", "SE*2*0001", "IEA*0*000000001")
    assert only(no_group) == {("interchange", "024", 2, "ST")}
    after = x12(*GOOD, "GS*IN*A*B*20261218*1200*8*X*004010")
    interchanges = read_interchanges(after)
    assert [i.enveloped for i in interchanges] == [True, False]
    assert {(e.code, e.position) for e in interchanges[1].errors} == {("022", 8)}
    assert not interchanges[0].all_errors


def test_empty_st01_or_st02() -> None:
    assert only(x12(*GOOD[:2], "ST**0001", GOOD[3], "SE*3*0001", *GOOD[5:])) == {("transaction", "6", 3, "ST")}


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"", "022", "empty"),
        (b"  \r\n ", "022", "empty"),
        (b"hello, this is not EDI", "022", "must start with an ISA"),
        ("ISA*00".encode("utf-16"), "022", "UTF-16"),
        (b"ISA0000", "026", "separator"),
        (b"ISA*00*x", "022", "fewer than 16"),
        (ISA.encode() + b"G", "004", "terminator"),
        (ISA[:-1].encode() + b"**~", "027", "ISA16"),
    ],
)
def test_what_is_not_x12_is_an_interchange_error(data: bytes, code: str, words: str) -> None:
    [interchange] = read_interchanges(data)
    assert not interchange.enveloped and not interchange.groups
    [error] = interchange.errors
    assert (error.level, error.code, error.position) == (Level.INTERCHANGE, code, 1)
    assert words in error.message


def test_garbage_between_interchanges_is_reported_and_the_next_one_read() -> None:
    data = x12(*GOOD) + b"%%% not x12 %%%\n" + x12(*GOOD)
    first, stray, second = read_interchanges(data)
    assert first.ok and second.ok and not stray.enveloped
    assert [(e.code, e.position, e.tag) for e in stray.errors] == [("022", 8, "%%% not x12 %%%")]
    assert second.position == 9


# -- streaming -----------------------------------------------------------------------------------


def test_each_transaction_set_is_handed_over_as_soon_as_its_se_is_read() -> None:
    invoices = [segment for n in range(1, 4) for segment in (f"ST*810*{n:04d}", "BIG*20261218*X", f"SE*3*{n:04d}")]
    lines = [(s + "~\n").encode() for s in (*GOOD[:2], *invoices, "GE*3*7", "IEA*1*000000001")]
    read: list[int] = []

    def chunks() -> Iterator[bytes]:
        for index, line in enumerate(lines):
            read.append(index)
            yield line

    events = iter_transactions(chunks())
    first = next(events)
    assert isinstance(first, TransactionRead) and first.transaction.control_number == "0001"
    assert len(read) < len(lines)  # the rest of the file is not read yet
    assert first.interchange.groups == [] and first.group.transactions == []  # headers only: constant memory
    rest = list(events)
    assert [type(e).__name__ for e in rest] == [
        "TransactionRead",
        "TransactionRead",
        "GroupClosed",
        "InterchangeClosed",
    ]
    closed = rest[-2]
    assert isinstance(closed, GroupClosed) and closed.transaction_count == 3 and not closed.group.errors
    assert isinstance(rest[-1], InterchangeClosed) and rest[-1].group_count == 1


def test_trailer_errors_arrive_with_the_close() -> None:
    events = list(iter_transactions(x12(*GOOD[:5], "GE*2*7", "IEA*1*000000009")))
    group_closed = next(e for e in events if isinstance(e, GroupClosed))
    assert [e.code for e in group_closed.group.errors] == ["5"]
    interchange_closed = next(e for e in events if isinstance(e, InterchangeClosed))
    assert [e.code for e in interchange_closed.interchange.errors] == ["001"]


def test_iter_segments_reports_unreadable_data() -> None:
    tokens = list(iter_segments(b"nope" + x12(*GOOD)))
    assert isinstance(tokens[0], Unreadable) and tokens[0].code == "022"
    assert [t[0].tag for t in tokens[1:] if isinstance(t, tuple)] == ["ISA", "GS", "ST", "BIG", "SE", "GE", "IEA"]


# -- generated -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600))
def test_any_bytes_never_crash_the_reader(data: bytes) -> None:
    for candidate in (data, ISA.encode() + data, x12(*GOOD)[: len(data) % 120] + data):
        interchanges = read_interchanges(candidate)
        assert all(isinstance(i, Interchange) for i in interchanges)
        list(iter_segments(candidate))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_damaged_real_file_never_crashes_the_reader(data: st.DataObject) -> None:
    content = (THIRD_PARTY / data.draw(st.sampled_from(sorted(TRANSACTION_SETS)))).read_bytes()
    start = data.draw(st.integers(0, len(content)))
    end = data.draw(st.integers(start, min(len(content), start + 40)))
    damaged = content[:start] + data.draw(st.binary(max_size=20)) + content[end:]
    for interchange in read_interchanges(damaged):
        for error in interchange.all_errors:
            assert error.code in (
                "001",
                "004",
                "018",
                "021",
                "022",
                "023",
                "024",
                "026",
                "027",
                "2",
                "3",
                "4",
                "5",
                "6",
                "7",
            )


def test_a_long_run_of_isa_lookalikes_is_skipped_in_linear_time() -> None:
    [interchange] = read_interchanges(b"ISA" * 200_000)
    assert [e.code for e in interchange.errors] == ["026"]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_cut_of_a_real_file_into_chunks_reads_the_same(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(TRANSACTION_SETS)))
    content = (THIRD_PARTY / name).read_bytes()
    cuts = sorted(data.draw(st.lists(st.integers(0, len(content)), max_size=12)))
    pieces = [content[a:b] for a, b in zip([0, *cuts], [*cuts, len(content)], strict=True)]
    assert transaction_sets(read_interchanges(pieces)) == TRANSACTION_SETS[name]
    assert error_codes(read_interchanges(pieces)) == BROKEN.get(name, set())


# interchanges -> groups (functional id, transaction sets) -> sets -> body segments -> elements
Interchanges = list[list[tuple[str, list[list[list[str]]]]]]
DELIMITER_CHARS = "*|^~!{}`+>:@#$%&;\\"
ELEMENT_TEXT = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-/", max_size=12)


@st.composite
def envelopes(draw: st.DrawFn) -> tuple[Interchanges, list[Delimiters], str]:
    """Interchanges of groups of transaction sets (their body segments as element lists), each
    interchange with its own random delimiters, and what follows each terminator."""
    interchanges = draw(st.lists(st.lists(st.lists(
        st.lists(st.lists(ELEMENT_TEXT, min_size=1, max_size=6), max_size=5), min_size=1, max_size=3),
        max_size=3), min_size=1, max_size=3))  # fmt: skip
    chosen = []
    for _ in interchanges:
        element, component, repetition, segment = draw(st.permutations(DELIMITER_CHARS))[:4]
        chosen.append(Delimiters(element, component, repetition, draw(st.sampled_from([segment, "\n", "\r\n"]))))
    groups = [[("IN", sets) for sets in interchange] for interchange in interchanges]
    return groups, chosen, draw(st.sampled_from(["", "\n", "\r\n"]))


def write(interchanges: Interchanges, chosen: list[Delimiters], after: str) -> bytes:
    out = []
    for number, (groups, d) in enumerate(zip(interchanges, chosen, strict=True), start=1):
        e = d.element
        end = d.segment + (after if d.segment[-1] != "\n" else "")
        isa = ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", "SENDER".ljust(15), "ZZ", "RECEIVER".ljust(15),
               "261218", "1200", d.repetition or "U", "00501", f"{number:09d}", "0", "P", d.component]  # fmt: skip
        segments = [e.join(isa)]
        for g, (functional_id, sets) in enumerate(groups, start=1):
            segments.append(e.join(["GS", functional_id, "A", "B", "20261218", "1200", str(g), "X", "005010"]))
            for t, body in enumerate(sets, start=1):
                segments.append(e.join(["ST", "810", f"{t:04d}"]))
                segments += [e.join(["REF", *elements]) for elements in body]
                segments.append(e.join(["SE", str(len(body) + 2), f"{t:04d}"]))
            segments.append(e.join(["GE", str(len(sets)), str(g)]))
        segments.append(e.join(["IEA", str(len(groups)), f"{number:09d}"]))
        out.append("".join(segment + end for segment in segments))
    return "".join(out).encode()


@settings(max_examples=150, deadline=None)
@given(envelopes())
def test_generated_envelopes_with_random_delimiters_read_back_as_written(
    generated: tuple[Interchanges, list[Delimiters], str],
) -> None:
    interchanges, chosen, after = generated
    read = read_interchanges(write(interchanges, chosen, after))
    assert len(read) == len(interchanges)
    for got, groups, d in zip(read, interchanges, chosen, strict=True):
        assert not got.all_errors, got.all_errors
        assert got.delimiters == d
        written = [[body for body in sets] for _, sets in groups]
        assert [[[list(s.elements) for s in t.body] for t in g.transactions] for g in got.groups] == written
