"""Three-way match: examples from shared/examples/, then properties over generated invoices."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.decisions import team_for
from domain.matching import DiscrepancyKind, MatchTolerance, PoLineFacts, three_way_match
from domain.purchasing import Invoice, normalise_invoice_number
from tests.examples import example_json
from tests.support.fakes import seed_items

ITEMS = seed_items()
K = DiscrepancyKind


def po_lines(received: tuple[int, int] = (20, 10), invoiced: tuple[int, int] = (0, 0)) -> list[PoLineFacts]:
    return [
        PoLineFacts(line=1, item_id="ITM-1002", quantity=Decimal(20), uom="CS", unit_price=Decimal("84.50"),
                    received=Decimal(received[0]), invoiced=Decimal(invoiced[0])),
        PoLineFacts(line=2, item_id="ITM-1003", quantity=Decimal(10), uom="BX", unit_price=Decimal("112.80"),
                    received=Decimal(received[1]), invoiced=Decimal(invoiced[1])),
    ]  # fmt: skip


def example(name: str, **changes: object) -> Invoice:
    return Invoice.model_validate({**example_json(f"invoices/{name}.json"), **changes})


def kinds(invoice: Invoice, lines: list[PoLineFacts] | None = None, **kw: object) -> list[DiscrepancyKind]:
    return three_way_match(invoice, po_lines() if lines is None else lines, ITEMS, **kw).kinds  # type: ignore[arg-type]


def test_the_examples_produce_their_outcomes() -> None:
    assert kinds(example("inv-clean")) == []
    variance = three_way_match(example("inv-price-variance"), po_lines(), ITEMS)
    assert variance.kinds == [K.PRICE_VARIANCE] and team_for(variance.kinds) == "pricing"
    assert variance.discrepancies[0].amount == Decimal("135.00")  # (91.25 - 84.50) x 20
    over = three_way_match(example("inv-over-receipt"), po_lines(), ITEMS)
    assert over.kinds == [K.QUANTITY_VARIANCE] and team_for(over.kinds) == "receiving"
    assert over.payable_amount == Decimal("2818.00")
    assert kinds(example("inv-duplicate"), duplicate_of="AP-000001") == [K.DUPLICATE_INVOICE]


def test_each_remaining_kind() -> None:
    assert kinds(example("inv-clean"), po_lines(received=(0, 10))) == [K.NO_RECEIPT]
    wrong_line = example("inv-clean")
    wrong_line.lines[1].po_line = 7
    assert kinds(wrong_line) == [K.UNKNOWN_PO_LINE]
    wrong_item = example("inv-clean")
    wrong_item.lines[0].item_id = "ITM-1001"
    assert kinds(wrong_item) == [K.UNKNOWN_PO_LINE]
    bad_unit = example("inv-clean")
    bad_unit.lines[0].uom = "PL"
    assert kinds(bad_unit) == [K.UOM_MISMATCH]
    assert kinds(example("inv-clean", total="2900.00")) == [K.TOTAL_MISMATCH]
    assert kinds(example("inv-clean", total="2818.00")) == []
    assert kinds(example("inv-clean", currency="CAD")) == [K.TOTAL_MISMATCH]
    assert kinds(example("inv-clean"), po_lines(invoiced=(20, 0))) == [K.QUANTITY_VARIANCE]


def test_the_price_tolerance_is_the_lesser_of_two_percent_and_fifty_dollars() -> None:
    def with_price(price: str, quantity: int = 20) -> list[DiscrepancyKind]:
        invoice = example("inv-clean")
        invoice.lines[0].unit_price = Decimal(price)
        invoice.lines[0].quantity = Decimal(quantity)
        return kinds(invoice, po_lines(received=(quantity, 10)))

    # 20 CS at 84.50 = 1690.00: 2 % is 33.80 (less than $50)
    assert with_price("86.19") == []  # +33.80
    assert with_price("86.20") == [K.PRICE_VARIANCE]  # +34.00
    assert with_price("82.81") == []  # -33.80: under-billing within tolerance
    assert with_price("82.80") == [K.PRICE_VARIANCE]
    # 200 CS: 2 % is 338.00, so the $50 cap applies
    assert with_price("84.75", 200) == []  # +50.00
    assert with_price("84.76", 200) == [K.PRICE_VARIANCE]  # +52.00


def test_units_convert_through_the_item_master() -> None:
    invoice = example("inv-clean")
    invoice.lines[0].quantity, invoice.lines[0].uom = Decimal(600), "EA"  # 20 CS of 30 EA
    invoice.lines[0].unit_price = Decimal("84.50") / 30
    assert kinds(invoice) == []


def test_invoice_numbers_normalise() -> None:
    assert normalise_invoice_number("nss-0889120") == normalise_invoice_number("NSS889120") == "NSS889120"
    assert normalise_invoice_number("INV/2026/007") == "INV20267"


quantities = st.integers(min_value=1, max_value=500)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)


@settings(max_examples=200, deadline=None)
@given(ordered=quantities, price=prices, received_share=st.integers(0, 100), billed_share=st.integers(1, 150),
       markup=st.decimals(min_value=Decimal("-0.10"), max_value=Decimal("0.10"), places=4))  # fmt: skip
def test_every_discrepancy_matches_the_rules(
    ordered: int, price: Decimal, received_share: int, billed_share: int, markup: Decimal
) -> None:
    received = Decimal(ordered * received_share // 100)
    billed = Decimal(max(1, ordered * billed_share // 100))
    billed_price = (price * (1 + markup)).quantize(Decimal("0.01"))
    line = PoLineFacts(line=1, item_id="ITM-1001", quantity=Decimal(ordered), uom="CS", unit_price=price,
                       received=received)  # fmt: skip
    invoice = example("inv-clean", po_number="PO-X", lines=[
        {"line": 1, "po_line": 1, "item_id": "ITM-1001", "quantity": str(billed), "uom": "CS",
         "unit_price": str(billed_price)}])  # fmt: skip
    tolerance = MatchTolerance()
    result = three_way_match(invoice, [line], ITEMS, tolerance=tolerance)

    variance = abs(billed_price - price) * billed
    allowed = min(price * billed * tolerance.price_percent / 100, tolerance.price_amount)
    assert (K.PRICE_VARIANCE in result.kinds) == (variance > allowed)
    assert (K.NO_RECEIPT in result.kinds) == (received == 0)
    assert (K.QUANTITY_VARIANCE in result.kinds) == (received > 0 and billed > received)
    assert set(result.kinds) <= {K.PRICE_VARIANCE, K.NO_RECEIPT, K.QUANTITY_VARIANCE}
    # a short-pay never pays more than what was received, at the PO price
    assert result.payable_amount <= (min(billed, received) * price).quantize(Decimal("0.01"))
    assert result.clean == (not result.discrepancies)


@settings(max_examples=100, deadline=None)
@given(cases=st.integers(1, 50), price=prices)
def test_the_same_goods_in_another_unit_match_the_same(cases: int, price: Decimal) -> None:
    line = PoLineFacts(line=1, item_id="ITM-1001", quantity=Decimal(cases), uom="CS", unit_price=price,
                       received=Decimal(cases))  # fmt: skip

    def billed(quantity: Decimal, uom: str, unit_price: Decimal) -> list[DiscrepancyKind]:
        invoice = example("inv-clean", po_number="PO-X", lines=[
            {"line": 1, "po_line": 1, "item_id": "ITM-1001", "quantity": str(quantity), "uom": uom,
             "unit_price": str(unit_price)}])  # fmt: skip
        return three_way_match(invoice, [line], ITEMS).kinds

    assert billed(Decimal(cases), "CS", price) == []
    assert billed(Decimal(cases * 10), "BX", price / 10) == []  # a CS of ITM-1001 is 10 BX
    assert billed(Decimal(cases * 10 + 1), "BX", price / 10) == [K.QUANTITY_VARIANCE]


def test_inventory_warnings_flag_orders_above_par_and_unstocked_items() -> None:
    from domain.po_rules import inventory_warnings
    from domain.purchasing import PurchaseOrder
    from domain.system_records import InventoryBalance

    po = PurchaseOrder.model_validate(example_json("purchase-orders/po-northgate-gowns.json"))
    balances = [
        InventoryBalance(location_id="LOC-OR-02", item_id="ITM-1002", uom="CS", on_hand=Decimal(6), par=Decimal(20)),
    ]
    warnings = inventory_warnings(po, balances, ITEMS)
    assert warnings == [
        "line 1: LOC-OR-02 would hold 26 CS of ITM-1002 (on hand 6, on order 0, par 20)",
        "line 2: LOC-OR-02 does not stock ITM-1003",
    ]
