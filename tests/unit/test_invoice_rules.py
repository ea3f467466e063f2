"""Invoice rules around the match: PO-line facts in each line's unit, routing, evidence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from domain.decisions import AP_TEAM, CONTRACTING_TEAM, PRICING_TEAM, RECEIVING_TEAM, team_for
from domain.invoice_models import ExceptionEvidence, MatchFacts
from domain.invoice_rules import exception_evidence, invoice_exception_team, po_line_facts
from domain.matching import DiscrepancyKind, MatchResult
from domain.purchasing import Receipt, ReceiptLine
from domain.reference import Contract, Item, PriceTier
from domain.system_records import Dispute, ErpInvoice, ErpPoLine, ErpPurchaseOrder, MatchedLine

K = DiscrepancyKind
GOWNS = Item(item_id="ITM-1002", description="gowns", uoms={"EA": 1, "CS": 30}, base_uom="EA")
SUTURES = Item(item_id="ITM-1003", description="sutures", uoms={"EA": 1, "BX": 36}, base_uom="EA")
CONTRACT = Contract(
    contract_id="CTR-1",
    supplier_id="SUP-0002",
    effective_from=date(2026, 1, 1),
    effective_to=date(2026, 12, 31),
    status="active",
    prices=[PriceTier(item_id="ITM-1002", uom="EA", min_qty=Decimal(1), unit_price=Decimal("2.50"))],
)


def facts(*receipts: Receipt, vouchers: list[ErpInvoice] | None = None) -> MatchFacts:
    po = ErpPurchaseOrder(
        po_number="PO-1",
        supplier_id="SUP-0002",
        lines=[
            ErpPoLine(line=1, item_id="ITM-1002", quantity=Decimal(20), uom="CS", unit_price=Decimal("84.50")),
            ErpPoLine(line=2, item_id="ITM-1003", quantity=Decimal(10), uom="BX", unit_price=Decimal("112.80")),
            ErpPoLine(line=3, item_id="ITM-1003", quantity=Decimal(1), uom="BX", unit_price=Decimal(1),
                      status="cancelled"),
        ],
    )  # fmt: skip
    return MatchFacts(
        po=po,
        receipts=list(receipts),
        approved_vouchers=vouchers or [],
        items={"ITM-1002": GOWNS, "ITM-1003": SUTURES},
    )


def receipt(*lines: tuple[int, str, str]) -> Receipt:
    return Receipt(
        receipt_id="R", po_number="PO-1", lines=[ReceiptLine(line=n, quantity=Decimal(q), uom=u) for n, q, u in lines]
    )


def test_receipts_are_counted_in_each_lines_unit_and_unconvertible_ones_are_not() -> None:
    found = facts(
        receipt((1, "10", "CS"), (2, "72", "EA")),  # 72 EA of sutures is 2 BX
        receipt((1, "30", "EA"), (2, "1", "PL")),  # 30 gowns are 1 CS; PL is no unit of sutures
        vouchers=[
            ErpInvoice(erp_invoice_id="V", invoice_number="I", supplier_id="SUP-0002",
                       matched_lines=[MatchedLine(po_line=1, quantity=Decimal(4))]),
        ],
    )  # fmt: skip
    by_line = {line.line: line for line in po_line_facts(found)}
    assert by_line[1].received == Decimal(11) and by_line[1].invoiced == Decimal(4)
    assert by_line[2].received == Decimal(2) and by_line[2].invoiced == Decimal(0)
    assert by_line[3].cancelled and by_line[3].received == Decimal(0)
    assert po_line_facts(MatchFacts()) == []


def test_routing_and_the_contracting_override() -> None:
    assert team_for([K.PRICE_VARIANCE, K.NO_RECEIPT]) == PRICING_TEAM
    assert team_for([K.QUANTITY_VARIANCE]) == RECEIVING_TEAM
    assert team_for([]) == AP_TEAM
    in_force, after = date(2026, 6, 1), date(2027, 2, 1)
    assert invoice_exception_team([K.PRICE_VARIANCE], CONTRACT, in_force) == PRICING_TEAM
    assert invoice_exception_team([K.PRICE_VARIANCE], CONTRACT, after) == CONTRACTING_TEAM
    assert invoice_exception_team([K.QUANTITY_VARIANCE], CONTRACT, after) == RECEIVING_TEAM
    assert invoice_exception_team([K.PRICE_VARIANCE], None, after) == PRICING_TEAM


def test_evidence_shows_receipts_contract_prices_and_newest_disputes_first() -> None:
    disputes = [
        Dispute(dispute_id=f"D{n}", supplier_id="SUP-0002", invoice_number=f"I{n}", kind="price_variance",
                status="open" if n % 2 else "resolved", opened_on=date(2026, 1, n + 1) if n else None)
        for n in range(12)
    ]  # fmt: skip
    match = MatchResult(invoice_amount=Decimal("100.00"), payable_amount=Decimal("90.00"))
    evidence = exception_evidence(
        facts(receipt((1, "20", "CS"), (2, "4", "BX"))),
        match,
        ExceptionEvidence(disputes=disputes, contract=CONTRACT),
        invoice_date=date(2026, 6, 1),
        today=date(2026, 6, 2),
    )
    assert [line["status"] for line in evidence["receipt_status"]] == [
        "fully received",
        "partially received",
        "cancelled",
    ]
    pricing = evidence["contract_pricing"]
    assert pricing["in_force_on_invoice_date"] is True
    assert pricing["lines"][0]["contract_price"] == "75.00"  # 2.50 per EA, 30 EA in a CS
    assert pricing["lines"][1]["contract_price"] is None
    history = evidence["dispute_history"]
    assert history["total"] == 12 and history["open"] == 6
    assert [d["dispute_id"] for d in history["recent"]][:2] == ["D0", "D11"]  # undated counts as today
    assert len(history["recent"]) == 10
    assert evidence["amounts"] == {"invoice": "100.00", "payable_at_po_price": "90.00"}
