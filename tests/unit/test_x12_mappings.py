"""X12 mappings of what suppliers send: each example file (tests/data/edi/) maps to the outcome
the examples README promises (855, 810, 856, 832); variants of them (backorders, price and
quantity changes, split packs, unknown codes) map as documented; a bad input names the model
field, the X12 element and the segment position."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.purchasing import AckLineStatus, AcknowledgementLine
from domain.x12.codes import X12_TO_UNIT
from domain.x12.map_810 import map_810
from domain.x12.map_832 import map_832
from domain.x12.map_855 import map_855
from domain.x12.map_856 import map_856
from domain.x12.reader import read_interchanges
from sandbox.vendor_channel import acknowledgement_lines
from tests.support.fakes import seed_contracts
from tests.support.x12 import CASCADIA, LAKESHORE, example, fix_count, mapped, refused, replaced, where

PO = "PO-2026-000460"
# the PO of po-cascadia-edi.json, as the vendor channel's notification carries its lines
PO_LINES: list[dict[str, Any]] = [
    {"line": 1, "item_id": "ITM-1004", "quantity": "30", "uom": "CS", "unit_price": "38.40"},
    {"line": 2, "item_id": "ITM-1005", "quantity": "2", "uom": "CS", "unit_price": "92.00"},
]


# --- 855 -------------------------------------------------------------------------------------


def test_855_example_acknowledges_both_lines_as_the_webhook_does() -> None:
    ack = mapped(example("855-cascadia-accept.edi"), map_855)
    assert (ack.event_id, ack.po_number, ack.supplier_id) == ("x12:CASCADIAPHARM:000004101:4101:0001", PO, CASCADIA)
    assert ack.acknowledged_at == datetime(2026, 12, 2, 9, 10, tzinfo=UTC)  # BAK09 is the group's day: its time
    webhook = [AcknowledgementLine.model_validate(line) for line in acknowledgement_lines("accept", PO_LINES, "x")]
    assert [(a.line, a.status, a.quantity) for a in ack.lines] == [(w.line, w.status, w.quantity) for w in webhook]
    assert {a.promised_date for a in ack.lines} == {date(2026, 12, 10)}


def _855_lines(*segments: str) -> bytes:
    """The 855 example with its PO1/ACK block replaced by `segments`."""
    text = example("855-cascadia-accept.edi").decode()
    block = re.search(r"PO1\*1\*.*?(?=CTT)", text, re.S)
    assert block is not None
    return fix_count(text.replace(block.group(0), "".join(f"{s}~\n" for s in segments))).encode()


PO1_1 = "PO1*1*30*CA*38.40**UK*10888881004044*VP*CPD-NS1000*BP*ITM-1004"
PO1_2 = "PO1*2*2*CA*92.00**UK*10888881005058*VP*CPD-SY10*BP*ITM-1005"


@pytest.mark.parametrize(
    ("mode", "first_line"),
    [
        ("backorder", [PO1_1, "ACK*IA*15*CA", "ACK*IB*15*CA*068*20261215"]),
        ("price_change", ["PO1*1*30*CA*40.32**BP*ITM-1004", "ACK*IP*30*CA"]),
        ("quantity_change", [PO1_1, "ACK*IQ*15*CA"]),
        ("reject", [PO1_1, "ACK*IR*0*CA"]),
    ],
)
def test_855_answers_map_to_what_the_webhook_sends_for_the_same_answer(mode: str, first_line: list[str]) -> None:
    second = [PO1_2, "ACK*IR*0*CA"] if mode == "reject" else [PO1_2, "ACK*IA*2*CA"]
    ack = mapped(_855_lines(*first_line, *second), map_855)
    webhook = [AcknowledgementLine.model_validate(line) for line in acknowledgement_lines(mode, PO_LINES, "2026-12-01")]
    assert [line.model_dump(exclude={"note"}) for line in ack.lines] == [
        line.model_dump(exclude={"note"}) for line in webhook
    ]


def test_855_quantities_in_another_unit_are_converted_to_the_ordered_one() -> None:
    ack = mapped(_855_lines(PO1_1, "ACK*IA*360*EA"), map_855)  # ITM-1004: CS = 12 EA
    assert (ack.lines[0].status, ack.lines[0].quantity) == (AckLineStatus.ACCEPTED, Decimal(30))


def test_855_refuses_a_status_it_cannot_represent_naming_the_line_and_element() -> None:
    error = refused(_855_lines(PO1_1, "ACK*IS*30*CA"), map_855)
    assert where(error) == ("lines[0].status", "ACK01", 7)
    assert "'IS'" in error.reason and error.syntax_code == "7"


def test_855_refuses_accepted_and_rejected_parts_on_one_line() -> None:
    error = refused(_855_lines(PO1_1, "ACK*IA*20*CA", "ACK*IR*10*CA"), map_855)
    assert where(error)[:2] == ("lines[0].status", "ACK01") and "IA + IR" in error.reason


def test_855_refuses_a_whole_order_rejection_without_lines() -> None:
    data = _855_lines().decode().replace("BAK*00*AD*", "BAK*00*RJ*").encode()
    error = refused(data, map_855)
    assert where(error)[:2] == ("lines", "BAK02")


def test_855_rejection_rejects_lines_without_ack() -> None:
    data = _855_lines(PO1_1, PO1_2, "ACK*IR*2*CA").decode().replace("BAK*00*AD*", "BAK*00*RD*").encode()
    ack = mapped(data, map_855)
    assert [(line.line, line.status) for line in ack.lines] == [
        (1, AckLineStatus.REJECTED),
        (2, AckLineStatus.REJECTED),
    ]


def test_a_set_without_its_header_segment_names_the_header() -> None:
    data = fix_count(
        example("810-cascadia-invoice.edi").decode().replace("BIG*20261218*CPD-30460*20261201*PO-2026-000460~\n", "")
    )
    assert where(refused(data.encode(), map_810)) == ("invoice_number", "BIG", 3)


def test_855_refuses_an_ack_from_another_supplier() -> None:
    data = replaced("855-cascadia-accept.edi", "N1*ST*", "N1*SU*Other*92*SUP-0001~\nN1*ST*")
    assert where(refused(data, map_855))[:2] == ("supplier_id", "N104")


# --- 810 -------------------------------------------------------------------------------------


def test_810_example_is_the_invoice_the_json_one_would_be() -> None:
    invoice = mapped(example("810-cascadia-invoice.edi"), map_810)
    assert (invoice.invoice_number, invoice.po_number, invoice.supplier_id) == ("CPD-30460", PO, CASCADIA)
    assert invoice.invoice_date == date(2026, 12, 18)
    assert invoice.total == Decimal("1336.00") == invoice.computed_total
    assert [(ln.line, ln.po_line, ln.item_id, ln.quantity, ln.uom, ln.unit_price) for ln in invoice.lines] == [
        (p["line"], p["line"], p["item_id"], Decimal(p["quantity"]), p["uom"], Decimal(p["unit_price"]))
        for p in PO_LINES
    ]


def test_810_reads_freight_tax_and_currency() -> None:
    data = replaced("810-cascadia-invoice.edi", "TDS*133600~", "TDS*135850~\nTXI*ST*10.00~\nSAC*C*D240***1250~")
    invoice = mapped(data.replace(b"ITD*", b"CUR*BY*CAD~\nITD*").replace(b"SE*12*", b"SE*13*"), map_810)
    assert (invoice.freight, invoice.tax, invoice.currency) == (Decimal("12.50"), Decimal("10.00"), "CAD")
    assert invoice.total == invoice.computed_total == Decimal("1358.50")


@pytest.mark.parametrize(
    ("old", "new", "field", "element"),
    [
        ("IT1*1*30*CA*", "IT1*1*30*XX*", "lines[0].uom", "IT103"),
        ("IT1*2*2*CA*", "IT1*2*2O*CA*", "lines[1].quantity", "IT102"),
        ("IT1*2*2*CA*92.00", "IT1*2*2*CA*", "lines[1].unit_price", "IT104"),
        ("IT1*1*", "IT1*A*", "lines[0].po_line", "IT101"),
        ("BIG*20261218*", "BIG*261218*", "invoice_date", "BIG01"),
        ("TDS*133600", "TDS*1336.00", "total", "TDS01"),
        ("*CPD-30460*", "*CPD 30460*", "invoice_number", "BIG02"),  # pydantic's pattern, translated
        ("*92*SUP-0003", "*92*SUP-0002", "supplier_id", "N104"),
    ],
)
def test_810_errors_name_the_field_the_element_and_the_segment(old: str, new: str, field: str, element: str) -> None:
    data = replaced("810-cascadia-invoice.edi", old, new)
    error = refused(data, map_810)
    (interchange,) = read_interchanges(data)
    segment = next(
        s
        for s in interchange.groups[0].transactions[0].segments
        if s.tag == element[:-2] and new.split("*")[1] in s.elements[:4]
    )
    assert where(error) == (field, element, segment.position)
    assert field in str(error) and element in str(error)


def test_810_unknown_item_names_the_ids_tried() -> None:
    data = replaced("810-cascadia-invoice.edi", "UK*10888881005058*VP*CPD-SY10*BP*ITM-1005", "VP*NOPE-1")
    error = refused(data, map_810)
    assert error.field == "lines[1].item_id" and "VP NOPE-1" in error.reason


# --- 856 -------------------------------------------------------------------------------------


def test_856_example_is_the_ship_notice_the_readme_promises() -> None:
    notice = mapped(example("856-cascadia-asn.edi"), map_856)
    assert (notice.asn_number, notice.po_number, notice.supplier_id) == ("CPD-ASN-9120", PO, CASCADIA)
    assert (notice.carrier_code, notice.carrier_name, notice.tracking_number) == (
        "FDEG",
        "FedEx Ground",
        "794644790132",
    )
    assert (notice.shipped_on, notice.expected_delivery, notice.ship_to) == (
        date(2026, 12, 10),
        date(2026, 12, 14),
        "LOC-PH-03",
    )
    assert [(ln.line, ln.item_id, ln.quantity, ln.uom) for ln in notice.lines] == [
        (1, "ITM-1004", Decimal(30), "CS"),
        (2, "ITM-1005", Decimal(2), "CS"),
    ]
    assert notice.event_id == "x12:CASCADIAPHARM:000004102:4102:0001"


def test_856_adds_packs_of_one_line_in_its_first_unit_and_prefers_a_carrier_reference() -> None:
    data = replaced("856-cascadia-asn.edi", "SN1*1*30*CA~", "SN1*1*20*CA~\nLIN*1*BP*ITM-1004~\nSN1*1*120*EA~")
    data = fix_count(data.decode().replace("REF*BM*", "REF*CN*PRO-1~\nREF*BM*")).encode()
    notice = mapped(data, map_856)
    assert [(ln.line, ln.quantity, ln.uom) for ln in notice.lines] == [(1, Decimal(30), "CS"), (2, Decimal(2), "CS")]
    assert notice.tracking_number == "PRO-1"


@pytest.mark.parametrize(
    ("old", "new", "field", "element"),
    [
        ("PRF*PO-2026-000460***20261201~", "PRF*PO-2026-000460~\nHL*9*1*O~\nPRF*PO-2026-000461~", "po_number", "PRF01"),
        ("UL*0614141003006~\nN1*SF", "UL*0000000000000~\nN1*SF", "ship_to", "N104"),
        ("SN1*2*2*CA~", "", "lines[1].quantity", "SN102"),
        ("DTM*017*20261214", "DTM*017*2026-12-14", "expected_delivery", "DTM02"),
    ],
)
def test_856_errors_name_the_field_and_element(old: str, new: str, field: str, element: str) -> None:
    error = refused(replaced("856-cascadia-asn.edi", old, new), map_856)
    assert (error.field, error.element) == (field, element)
    assert error.position is not None


# --- 832 -------------------------------------------------------------------------------------


def test_832_example_prices_itm_1001_above_its_contract() -> None:
    catalog = mapped(example("832-lakeshore-catalog.edi"), map_832, supplier_id=LAKESHORE)
    assert (catalog.catalog_id, catalog.supplier_id, catalog.effective_from) == (
        "LMP-2027-Q1",
        LAKESHORE,
        date(2027, 1, 1),
    )
    price = catalog.price_of("ITM-1001", "CS")
    assert price is not None and price.unit_price == Decimal("61.10") and price.price_type == "CON"
    contract = seed_contracts()["CTR-2026-0112"]
    assert (
        contract.price_for("ITM-1001", "CS", price.min_quantity or Decimal(1)) == Decimal("59.25") != price.unit_price
    )


def test_832_lists_items_we_do_not_stock_instead_of_refusing_the_catalog() -> None:
    data = replaced("832-lakeshore-catalog.edi", "CTT*1~", "LIN*2*UK*00000000000017~\nCTP**CON*9.99*1*CA~\nCTT*2~")
    catalog = mapped(data, map_832, supplier_id=LAKESHORE)
    assert [p.item_id for p in catalog.prices] == ["ITM-1001"]
    assert [(u.product_ids, u.position) for u in catalog.unmatched] == [({"UK": "00000000000017"}, 10)]


def test_832_unknown_price_unit_names_ctp05() -> None:
    error = refused(replaced("832-lakeshore-catalog.edi", "*1*CA~", "*1*ZZ~"), map_832, supplier_id=LAKESHORE)
    assert where(error) == ("prices[0].uom", "CTP05", 9)


@given(
    quantity=st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(999999), places=4),
    price=st.decimals(min_value=Decimal(0), max_value=Decimal(9999999), places=2),
    unit=st.sampled_from(["CA", "EA"]),
)
def test_invoice_line_values_survive_the_mapping(quantity: Decimal, price: Decimal, unit: str) -> None:
    data = replaced("810-cascadia-invoice.edi", "IT1*1*30*CA*38.40*", f"IT1*1*{quantity}*{unit}*{price}*")
    line = mapped(data, map_810).lines[0]
    assert (line.quantity, line.uom, line.unit_price) == (quantity, X12_TO_UNIT[unit], price)
