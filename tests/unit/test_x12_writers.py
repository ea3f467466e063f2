"""What we send, read back with our reader: 997/999 for each group received (accepted, accepted
with errors, partially accepted, rejected; counts and control numbers right), a TA1 for a broken
interchange, and the 850 for a PO (mapped back by map_850 into the same PurchaseOrder)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.purchasing import PurchaseOrder
from domain.x12.acks import SegmentError, functional_ack, ta1
from domain.x12.context import MappingContext, MappingError, ReferenceData
from domain.x12.functional_ack import AckStatus, FunctionalAckReceived
from domain.x12.map_850 import map_850
from domain.x12.map_997 import map_997
from domain.x12.model import Delimiters, Interchange
from domain.x12.outbound import purchase_order_850
from domain.x12.reader import read_interchanges
from domain.x12.writer import ControlNumbers, Party, free_text, segment
from tests.support.fakes import seed_items, seed_locations

EDI = Path(__file__).resolve().parents[1] / "data" / "edi"
NOW = datetime(2026, 12, 2, 9, 15, tzinfo=UTC)
REFERENCE = ReferenceData(seed_items().values(), seed_locations())
US = Party("ZZ", "MERCYHEALTH")
CASCADIA = Party("ZZ", "CASCADIAPHARM")
CONTROL = ControlNumbers(interchange=7001, group=7001, transaction=1)


def only(text: str | bytes) -> Interchange:
    (interchange,) = read_interchanges(text.encode() if isinstance(text, str) else text)
    return interchange


def example(name: str) -> Interchange:
    return only((EDI / name).read_bytes())


def read_ack(text: str) -> tuple[Interchange, FunctionalAckReceived]:
    """Our 997/999 read back: its envelope must be clean, and its content mapped."""
    interchange = only(text)
    assert interchange.ok and not any(t.errors for g in interchange.groups for t in g.transactions), interchange
    (group,) = interchange.groups
    (ts,) = group.transactions
    return interchange, map_997(ts, MappingContext.for_transaction(interchange, group, ts, reference=REFERENCE))


def two_invoices(*, second_se: int = 6, ge_control: str = "4300") -> Interchange:
    """An 810 group of two sets, the second with the SE count given, GE02 as given."""
    segments = [
        "ISA*00*          *00*          *ZZ*CASCADIAPHARM  *ZZ*MERCYHEALTH    *261218*1200*U*00401*000004300*0*P*>",
        "GS*IN*CASCADIAPHARM*MERCYHEALTH*20261218*1200*4300*X*004010",
        "ST*810*0001",
        "BIG*20261218*CPD-1*20261201*PO-2026-000460",
        "IT1*1*2*CA*38.40**BP*ITM-1004",
        "TDS*7680",
        "CTT*1",
        "SE*6*0001",
        "ST*810*0002",
        "BIG*20261218*CPD-2*20261201*PO-2026-000999",
        "IT1*1*2*CA*38.40**BP*ITM-1004",
        "TDS*7680",
        "CTT*1",
        f"SE*{second_se}*0002",
        f"GE*2*{ge_control}",
        "IEA*1*000004300",
    ]
    return only("~".join(segments) + "~")


# --- 997 / 999 -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["855-cascadia-accept.edi", "856-cascadia-asn.edi", "810-cascadia-invoice.edi"])
def test_997_accepts_each_example_group(name: str) -> None:
    received = example(name)
    group = received.groups[0]
    text = functional_ack(received, group, control=CONTROL, now=NOW)
    interchange, ack = read_ack(text)
    assert (interchange.sender_id, interchange.receiver_id) == ("MERCYHEALTH", "CASCADIAPHARM")
    assert (interchange.control_number, interchange.groups[0].control_number) == ("000007001", "7001")
    assert (interchange.version, interchange.groups[0].version, interchange.groups[0].functional_id) == (
        received.version,
        group.version,
        "FA",
    )
    assert (ack.functional_id, ack.group_control_number, ack.status) == (
        group.functional_id,
        group.control_number,
        AckStatus.ACCEPTED,
    )
    assert [(t.code, t.control_number, t.status) for t in ack.transaction_sets] == [
        (group.transactions[0].code, "0001", AckStatus.ACCEPTED)
    ]
    assert (ack.included, ack.received, ack.accepted) == (1, 1, 1)


def test_997_rejects_the_set_with_a_wrong_count_and_partially_accepts_the_group() -> None:
    received = two_invoices(second_se=9)
    assert [e.code for e in received.groups[0].transactions[1].errors] == ["4"]
    _, ack = read_ack(functional_ack(received, received.groups[0], control=CONTROL, now=NOW))
    assert [(t.control_number, t.status, t.error_codes) for t in ack.transaction_sets] == [
        ("0001", AckStatus.ACCEPTED, []),
        ("0002", AckStatus.REJECTED, ["4"]),
    ]
    assert (ack.status, ack.included, ack.received, ack.accepted) == (AckStatus.PARTIALLY_ACCEPTED, 2, 2, 1)


def test_997_segment_errors_reject_or_note_a_set_with_ak3_ak4_positions() -> None:
    received = two_invoices()
    first, second = received.groups[0].transactions
    it1 = next(s for s in second.segments if s.tag == "IT1")
    errors = [
        SegmentError(it1.position, "IT1", element=3, element_code="7", reference="355"),
        SegmentError(first.segments[1].position, "BIG", element=1, element_code="8", rejects=False),
    ]
    text = functional_ack(received, received.groups[0], errors, control=CONTROL, now=NOW)
    assert "AK3*IT1*3**8~" in text and "AK4*3*355*7~" in text and "AK3*BIG*2**8~" in text
    _, ack = read_ack(text)
    assert [(t.status, t.error_codes) for t in ack.transaction_sets] == [
        (AckStatus.ACCEPTED_WITH_ERRORS, ["5"]),
        (AckStatus.REJECTED, ["5"]),
    ]
    assert (ack.status, ack.accepted) == (AckStatus.PARTIALLY_ACCEPTED, 1)
    note = ack.transaction_sets[1].segments[0]
    assert (note.segment_id, note.position_in_set, note.elements[0].position) == ("IT1", 3, "3")


def test_997_accepted_with_errors_when_no_set_is_rejected() -> None:
    received = two_invoices()
    big = received.groups[0].transactions[0].segments[1]
    _, ack = read_ack(
        functional_ack(
            received, received.groups[0], [SegmentError(big.position, "BIG", rejects=False)], control=CONTROL, now=NOW
        )
    )
    assert ack.status is AckStatus.ACCEPTED_WITH_ERRORS and ack.accepted == 2


def test_a_mapping_error_with_a_syntax_code_becomes_a_segment_error() -> None:
    error = MappingError("lines[0].uom", "unit code 'XX' ...", 5, "IT103", "7")
    assert SegmentError.from_mapping(error) == SegmentError(5, "IT1", "8", 3, None, "7", None, True)
    items = MappingError("lines[0].item_id", "no item", 6, "IT106..", "7")
    assert SegmentError.from_mapping(items, rejects=False) == SegmentError(6, "IT1", "8", 6, None, "7", None, False)
    assert SegmentError.from_mapping(MappingError("po_number", "unknown PO", 4, "BIG04")) is None


def test_997_rejects_a_group_with_errors_of_its_own() -> None:
    received = two_invoices(ge_control="4301")
    assert [e.code for e in received.groups[0].errors] == ["4"]
    _, ack = read_ack(functional_ack(received, received.groups[0], control=CONTROL, now=NOW))
    assert (ack.status, ack.error_codes, ack.accepted) == (AckStatus.REJECTED, ["4"], 2)


def test_999_is_5010_with_ik5_and_the_versions() -> None:
    received = two_invoices(second_se=9)
    text = functional_ack(received, received.groups[0], kind="999", control=CONTROL, now=NOW)
    interchange, ack = read_ack(text)
    assert (interchange.version, interchange.groups[0].version) == ("00501", "005010X231A1")
    assert interchange.delimiters.repetition == "^"
    assert "ST*999*0001*005010X231A1~" in text and "IK5*R*4~" in text
    assert (ack.kind, ack.version, ack.status) == ("999", "004010", AckStatus.PARTIALLY_ACCEPTED)


def test_acks_mirror_the_partners_delimiters() -> None:
    data = (EDI / "855-cascadia-accept.edi").read_bytes().replace(b"*", b"|").replace(b"~\n", b"\n")
    received = only(data)
    assert received.delimiters.element == "|" and received.ok
    text = functional_ack(received, received.groups[0], control=CONTROL, now=NOW)
    assert text.startswith("ISA|00|") and "~" not in text
    assert read_ack(text)[1].status is AckStatus.ACCEPTED


# --- TA1 -------------------------------------------------------------------------------------


def test_ta1_refuses_the_bad_envelope_example_with_its_note_code() -> None:
    received = example("bad-envelope.edi")
    (error,) = received.errors
    text = ta1(received, error.code, control=7002, now=NOW)
    back = only(text)
    assert back.ok and back.groups == [] and back.control_number == "000007002"
    (row,) = back.ta1
    assert row.elements == ("000004104", "261218", "1201", "R", "001")


def test_ta1_accepts_with_000_and_refuses_what_it_cannot_acknowledge() -> None:
    received = example("855-cascadia-accept.edi")
    assert only(ta1(received, "000", control=1, now=NOW)).ta1[0].element(4) == "A"
    with pytest.raises(ValueError, match="note_code"):
        ta1(received, "1", control=1, now=NOW)
    with pytest.raises(ValueError, match="status"):
        ta1(received, "001", control=1, now=NOW, status=AckStatus.PARTIALLY_ACCEPTED)


# --- 850 -------------------------------------------------------------------------------------

PO = PurchaseOrder.model_validate(
    {
        "po_number": "PO-2026-000460",
        "supplier_id": "SUP-0003",
        "contract_ref": "CTR-2026-0120",
        "ship_to": "LOC-PH-03",
        "bill_to": "LOC-CS-01",
        "requester": "pharmacy",
        "order_date": "2026-12-01",
        "need_by": "2026-12-20",
        "lines": [
            {"line": 1, "item_id": "ITM-1004", "quantity": 30, "uom": "CS", "unit_price": "38.40"},
            {"line": 2, "item_id": "ITM-1005", "quantity": 2, "uom": "CS", "unit_price": "92.00"},
        ],
    }
)


def read_850(text: str) -> PurchaseOrder:
    interchange = only(text)
    assert interchange.ok and not any(t.errors for g in interchange.groups for t in g.transactions)
    (group,) = interchange.groups
    (ts,) = group.transactions
    ctx = MappingContext.for_transaction(interchange, group, ts, reference=REFERENCE, supplier_id=None)
    return map_850(ts, ctx)


def test_850_carries_the_partner_ids_our_glns_gtins_and_contract() -> None:
    text = purchase_order_850(PO, partner=CASCADIA, us=US, reference=REFERENCE, control=CONTROL, now=NOW)
    interchange = only(text)
    assert (interchange.sender_id, interchange.receiver_id, interchange.control_number) == (
        "MERCYHEALTH",
        "CASCADIAPHARM",
        "000007001",
    )
    assert "N1*ST*Inpatient pharmacy, St. Anne Medical Center*UL*0614141003006~" in text
    assert "N1*BT*Central Supply, Mercy General*UL*0614141001002~" in text
    assert "PO1*1*30*CA*38.4**UK*10888881004044*VP*CPD-NS1000*BP*ITM-1004~" in text
    assert "REF*CT*CTR-2026-0120~" in text and "N1*SU**92*SUP-0003~" in text
    assert read_850(text) == PO


def test_850_contract_number_expedited_and_a_location_without_gln() -> None:
    po = PO.model_copy(update={"shipping": "expedited", "bill_to": "LOC-NOGLN"})
    text = purchase_order_850(
        po, partner=CASCADIA, us=US, reference=REFERENCE, control=CONTROL, now=NOW, contract_number="CASC-77"
    )
    assert "REF*CT*CASC-77~" in text and "TD5************ES~" in text and "N1*BT**92*LOC-NOGLN~" in text
    back = read_850(text.replace("*92*LOC-NOGLN", "*92*LOC-CS-01"))
    assert (back.shipping, back.contract_ref, back.bill_to) == ("expedited", "CASC-77", "LOC-CS-01")


def test_850_refuses_a_unit_without_an_x12_code_and_an_id_with_a_delimiter() -> None:
    odd_unit = PO.model_copy(update={"lines": [PO.lines[0].model_copy(update={"uom": "BAG2"})]})
    with pytest.raises(ValueError, match=r"lines\[0\]\.uom.*BAG2"):
        purchase_order_850(odd_unit, partner=CASCADIA, us=US, reference=REFERENCE, control=CONTROL, now=NOW)
    with pytest.raises(ValueError, match="REF02"):
        purchase_order_850(
            PO, partner=CASCADIA, us=US, reference=REFERENCE, control=CONTROL, now=NOW, contract_number="A*B"
        )


def test_free_text_loses_delimiters_and_ids_keep_them_out() -> None:
    d = Delimiters()
    assert free_text("Gloves * large ~ box>10\n", d, 80) == "Gloves large box 10"
    assert free_text("x" * 100, d, 60) == "x" * 60
    with pytest.raises(ValueError, match="BEG03"):
        segment("BEG", ["00", "SA", "PO~1"], d)
    with pytest.raises(ValueError, match="control number"):
        ControlNumbers(interchange=0, group=1)
    with pytest.raises(ValueError, match="party id"):
        Party("ZZ", "A" * 16)


ITEMS = seed_items()
SAFE_TEXT = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789,.-", min_size=1, max_size=40
)


@st.composite
def purchase_orders(draw: st.DrawFn) -> PurchaseOrder:
    count = draw(st.integers(min_value=1, max_value=5))
    numbers = draw(st.lists(st.integers(min_value=1, max_value=9999), min_size=count, max_size=count, unique=True))
    lines = []
    for number in numbers:
        item = ITEMS[draw(st.sampled_from(sorted(ITEMS)))]
        lines.append(
            {
                "line": number,
                "item_id": item.item_id,
                "quantity": draw(st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(9999), places=4)),
                "uom": draw(st.sampled_from(sorted(item.uoms))),
                "unit_price": draw(st.decimals(min_value=Decimal(0), max_value=Decimal(999), places=4)),
                "need_by": draw(st.none() | st.dates(date(2026, 1, 1), date(2030, 12, 31))),
                "description": draw(st.none() | SAFE_TEXT),
            }
        )
    return PurchaseOrder.model_validate(
        {
            "po_number": draw(st.from_regex(r"PO-[0-9]{4}-[0-9]{6}", fullmatch=True)),
            "supplier_id": draw(st.sampled_from(["SUP-0001", "SUP-0002", "SUP-0003"])),
            "contract_ref": draw(st.none() | st.just("CTR-2026-0120")),
            "ship_to": draw(st.sampled_from([loc.location_id for loc in seed_locations()])),
            "bill_to": draw(st.sampled_from([loc.location_id for loc in seed_locations()])),
            "requester": draw(SAFE_TEXT),
            "currency": draw(st.sampled_from(["USD", "CAD"])),
            "order_date": draw(st.dates(date(2026, 1, 1), date(2030, 12, 31))),
            "need_by": draw(st.none() | st.dates(date(2026, 1, 1), date(2030, 12, 31))),
            "shipping": draw(st.sampled_from(["standard", "expedited"])),
            "lines": lines,
        }
    )


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(po=purchase_orders(), control=st.integers(min_value=1, max_value=999_999_999))
def test_850_round_trips_through_the_reader_and_map_850(po: PurchaseOrder, control: int) -> None:
    numbers = ControlNumbers(interchange=control, group=control, transaction=1)
    text = purchase_order_850(po, partner=CASCADIA, us=US, reference=REFERENCE, control=numbers, now=NOW)
    assert only(text).control_number == f"{control:09d}"
    assert read_850(text) == po
