"""X12 mappings of what our side sends or answers (a legacy 850, 997/999 received), the code
tables, item resolution, event ids and the dispatch by ST01."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.x12.codes import UNIT_TO_X12, X12_TO_UNIT, UnknownCode, unit_from_x12, unit_to_x12
from domain.x12.context import ProductId, ReferenceData
from domain.x12.functional_ack import AckStatus
from domain.x12.map_850 import map_850
from domain.x12.map_856 import map_856
from domain.x12.map_997 import map_997
from domain.x12.map_all import map_transaction_set
from tests.support.fakes import seed_items
from tests.support.x12 import CASCADIA, REFERENCE, example, fix_count, mapped, refused, where

# --- 850 -------------------------------------------------------------------------------------

ORDER_850 = fix_count(
    "\n".join(
        [
            "ISA*00*          *00*          *ZZ*LEGACYMMS      *ZZ*SUPPLYBRIDGE   "
            "*261201*0900*U*00401*000000101*0*P*>~",
            "GS*PO*LEGACYMMS*SUPPLYBRIDGE*20261201*0900*101*X*004010~",
            "ST*850*0001~",
            "BEG*00*SA*PO-2026-000470**20261201~",
            "REF*CT*CTR-2026-0120~",
            "PER*BD*pharmacy~",
            "DTM*002*20261220~",
            "N1*ST*Inpatient pharmacy*UL*0614141003006~",
            "N1*BT*Central supply*92*LOC-CS-01~",
            "N1*SU*Cascadia*92*SUP-0003~",
            "PO1*1*30*CA*38.40**UK*10888881004044~",
            "PID*F****Sodium chloride bags~",
            "PO1*2*2*CA*92.00**VP*CPD-SY10~",
            "DTM*002*20261215~",
            "CTT*2~",
            "SE*15*0001~",
            "GE*1*101~",
            "IEA*1*000000101~",
        ]
    )
)


def test_850_from_a_legacy_export_is_the_purchase_order_submit_takes() -> None:
    po = mapped(ORDER_850.encode(), map_850, supplier_id=None)
    assert (po.po_number, po.supplier_id, po.contract_ref, po.requester) == (
        "PO-2026-000470",
        CASCADIA,
        "CTR-2026-0120",
        "pharmacy",
    )
    assert (po.ship_to, po.bill_to, po.order_date, po.need_by) == (
        "LOC-PH-03",
        "LOC-CS-01",
        date(2026, 12, 1),
        date(2026, 12, 20),
    )
    assert [(ln.line, ln.item_id, ln.quantity, ln.uom, ln.unit_price, ln.need_by) for ln in po.lines] == [
        (1, "ITM-1004", Decimal(30), "CS", Decimal("38.40"), None),
        (2, "ITM-1005", Decimal(2), "CS", Decimal("92.00"), date(2026, 12, 15)),
    ]
    assert po.lines[0].description == "Sodium chloride bags"


def test_850_without_a_ship_to_or_supplier_is_refused() -> None:
    no_ship_to = fix_count(ORDER_850.replace("N1*ST*Inpatient pharmacy*UL*0614141003006~\n", "")).encode()
    assert refused(no_ship_to, map_850, supplier_id=None).field == "ship_to"
    no_supplier = fix_count(ORDER_850.replace("N1*SU*Cascadia*92*SUP-0003~\n", "")).encode()
    assert refused(no_supplier, map_850, supplier_id=None).field == "supplier_id"
    assert mapped(no_supplier, map_850, supplier_id="SUP-0002").supplier_id == "SUP-0002"


# --- 997 / 999 received ----------------------------------------------------------------------


def _ack(code: str, *body: str) -> bytes:
    segments = [
        "ISA*00*          *00*          *ZZ*CASCADIAPHARM  *ZZ*MERCYHEALTH    *261201*0901*U*00401*000004200*0*P*>",
        "GS*FA*CASCADIAPHARM*MERCYHEALTH*20261201*0901*4200*X*004010",
        f"ST*{code}*0001",
        *body,
        f"SE*{len(body) + 2}*0001",
        "GE*1*4200",
        "IEA*1*000004200",
    ]
    return ("~".join(segments) + "~").encode()


def test_997_received_names_each_set_and_its_errors() -> None:
    data = _ack(
        "997",
        "AK1*PO*101",
        "AK2*850*0001",
        "AK5*A",
        "AK2*850*0002",
        "AK3*PO1*7**8",
        "AK4*3*355*7*XX",
        "AK5*R*5",
        "AK9*P*2*2*1",
    )
    ack = mapped(data, map_997)
    assert (ack.kind, ack.functional_id, ack.group_control_number, ack.status) == (
        "997",
        "PO",
        "101",
        AckStatus.PARTIALLY_ACCEPTED,
    )
    assert (ack.included, ack.received, ack.accepted) == (2, 2, 1)
    assert [(t.control_number, t.status, t.error_codes) for t in ack.transaction_sets] == [
        ("0001", AckStatus.ACCEPTED, []),
        ("0002", AckStatus.REJECTED, ["5"]),
    ]
    note = ack.transaction_sets[1].segments[0]
    assert (note.segment_id, note.position_in_set, note.code) == ("PO1", 7, "8")
    assert note.elements[0].model_dump() == {"position": "3", "reference": "355", "code": "7", "bad_value": "XX"}
    assert ack.status_of("0001") is AckStatus.ACCEPTED and ack.status_of("0009") is AckStatus.ACCEPTED


def test_999_received_reads_ik5_and_the_version() -> None:
    ack = mapped(
        _ack("999", "AK1*PO*101*004010", "AK2*850*0001", "IK3*N1*5**8", "IK4*4>1**7", "IK5*R*5", "AK9*R*1*1*0"), map_997
    )
    assert (ack.kind, ack.version, ack.status) == ("999", "004010", AckStatus.REJECTED)
    assert ack.transaction_sets[0].segments[0].elements[0].position == "4:1"
    assert ack.status_of("0002") is AckStatus.REJECTED  # not listed: the group's status


@pytest.mark.parametrize(
    ("body", "field", "element"),
    [
        (["AK1*PO*101", "AK2*850*0001", "AK9*A*1*1*1"], "transaction_sets[0].status", "AK501"),
        (["AK1*PO*101", "AK9*Q*1*1*1"], "status", "AK901"),
        (["AK1*PO*101"], "status", "AK901"),
    ],
)
def test_997_received_errors(body: list[str], field: str, element: str) -> None:
    error = refused(_ack("997", *body), map_997)
    assert (error.field, error.element) == (field, element)


# --- context, codes, dispatch ----------------------------------------------------------------


def test_item_resolution_prefers_our_id_then_gtin_then_part_and_refuses_conflicts() -> None:
    def ids(*pairs: str) -> list[ProductId]:
        return [ProductId(q, v, f"X{i:02d}") for i, (q, v) in enumerate(zip(pairs[::2], pairs[1::2], strict=True))]

    assert REFERENCE.resolve_item(ids("VP", "CPD-SY10")).item_id == "ITM-1005"
    upc = ReferenceData([seed_items()["ITM-1007"].model_copy(update={"gtin": "00614141000036"})])
    assert upc.resolve_item(ids("UP", "614141000036")).item_id == "ITM-1007"  # a UPC-12 is a GTIN-14 with zeros
    assert REFERENCE.resolve_item(ids("BP", "ITM-9999", "UK", "10888881004044")).item_id == "ITM-1004"
    with pytest.raises(LookupError, match=r"ITM-1004.*ITM-1005"):
        REFERENCE.resolve_item(ids("BP", "ITM-1004", "UK", "10888881005058"))
    with pytest.raises(LookupError, match="ZZ nothing"):
        REFERENCE.resolve_item(ids("ZZ", "nothing"))


def test_a_shared_part_number_resolves_nothing() -> None:
    items = seed_items()
    twin = items["ITM-1002"].model_copy(update={"mfr_part": "CPD-SY10"})
    reference = ReferenceData([items["ITM-1005"], twin])
    with pytest.raises(LookupError):
        reference.resolve_item([ProductId("VP", "CPD-SY10", "LIN03")])


def test_event_ids_are_the_same_every_time_and_differ_per_transaction_set() -> None:
    first = mapped(example("856-cascadia-asn.edi"), map_856).event_id
    assert first == mapped(example("856-cascadia-asn.edi"), map_856).event_id
    other = (
        example("856-cascadia-asn.edi").replace(b"ST*856*0001", b"ST*856*0002").replace(b"SE*20*0001", b"SE*20*0002")
    )
    assert mapped(other, map_856).event_id == first[: -len("0001")] + "0002"


def test_dispatch_maps_by_st01_and_refuses_sets_we_do_not_trade() -> None:
    assert mapped(example("810-cascadia-invoice.edi"), map_transaction_set).invoice_number == "CPD-30460"
    data = example("810-cascadia-invoice.edi").replace(b"ST*810*", b"ST*846*")
    error = refused(data, map_transaction_set)
    assert where(error) == ("transaction_set", "ST01", 3) and "846" in error.reason


@given(st.sampled_from(sorted(X12_TO_UNIT)))
def test_unit_codes_round_trip(code: str) -> None:
    assert unit_to_x12(unit_from_x12(code)) == code


@given(st.text(min_size=1, max_size=4))
def test_unknown_unit_codes_are_named(code: str) -> None:
    if code in X12_TO_UNIT:
        assert unit_from_x12(code) in UNIT_TO_X12
    else:
        with pytest.raises(UnknownCode, match=re.escape(repr(code))):
            unit_from_x12(code)
