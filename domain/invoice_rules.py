"""Pure rules of the invoice workflow around the three-way match: the PO-line facts the match
reads, who an exception goes to, and the evidence a person gets with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from domain.decisions import CONTRACTING_TEAM, team_for
from domain.invoice_models import ExceptionEvidence, MatchFacts
from domain.matching import DiscrepancyKind, MatchResult, PoLineFacts
from domain.po_rules import contract_price
from domain.reference import Contract

DISPUTES_SHOWN = 10


def po_line_facts(facts: MatchFacts) -> list[PoLineFacts]:
    """The PO's lines with what was received and what approved invoices paid, in each line's unit
    (a receipt in a unit the item master cannot convert is not counted)."""
    if facts.po is None:
        return []
    received: dict[int, Decimal] = {}
    for receipt in facts.receipts:
        for got in receipt.lines:
            line = facts.po.line(got.line)
            if line is None:
                continue
            item = facts.items.get(line.item_id)
            if got.uom != line.uom and (item is None or not item.converts(got.uom, line.uom)):
                continue
            quantity = got.quantity if item is None else item.convert(got.quantity, got.uom, line.uom)
            received[line.line] = received.get(line.line, Decimal(0)) + quantity
    invoiced: dict[int, Decimal] = {}
    for voucher in facts.approved_vouchers:
        for paid in voucher.matched_lines:
            invoiced[paid.po_line] = invoiced.get(paid.po_line, Decimal(0)) + paid.quantity
    return [
        PoLineFacts(
            line=line.line,
            item_id=line.item_id,
            quantity=line.quantity,
            uom=line.uom,
            unit_price=line.unit_price,
            cancelled=line.status == "cancelled",
            received=received.get(line.line, Decimal(0)),
            invoiced=invoiced.get(line.line, Decimal(0)),
        )
        for line in facts.po.lines
    ]


def invoice_exception_team(kinds: Sequence[DiscrepancyKind], contract: Contract | None, invoice_date: date) -> str:
    """The routed team (`team_for`), except that a price variance against a contract no longer in
    force on the invoice date goes to contracting: the price cannot be settled without one."""
    if DiscrepancyKind.PRICE_VARIANCE in kinds and contract is not None and not contract.in_force_on(invoice_date):
        return CONTRACTING_TEAM
    return team_for(kinds)


def _receipt_state(line: PoLineFacts) -> str:
    if line.cancelled:
        return "cancelled"
    if line.received <= 0:
        return "not received"
    return "fully received" if line.received >= line.quantity else "partially received"


def exception_evidence(
    facts: MatchFacts, match: MatchResult, found: ExceptionEvidence, invoice_date: date, today: date
) -> dict[str, Any]:
    """What a person deciding an invoice exception sees: each PO line's receipt status, the
    contract's price for each line, the supplier's dispute history (newest first; a dispute with
    no date counts as `today`) and the amounts."""
    lines = po_line_facts(facts)
    receipt_status = [
        {
            "po_line": line.line,
            "item_id": line.item_id,
            "uom": line.uom,
            "ordered": str(line.quantity),
            "received": str(line.received),
            "invoiced_before": str(line.invoiced),
            "status": _receipt_state(line),
        }
        for line in lines
    ]
    contract = found.contract
    pricing = []
    for line in lines:
        item = facts.items.get(line.item_id)
        price = contract_price(contract, item, line.uom, line.quantity) if contract and item else None
        pricing.append(
            {
                "po_line": line.line,
                "item_id": line.item_id,
                "uom": line.uom,
                "po_price": str(line.unit_price),
                "contract_price": str(price) if price is not None else None,
            }
        )
    disputes = sorted(found.disputes, key=lambda d: d.opened_on or today, reverse=True)
    return {
        "receipt_status": receipt_status,
        "contract_pricing": {
            "contract_id": contract.contract_id if contract else None,
            "in_force_on_invoice_date": contract.in_force_on(invoice_date) if contract else None,
            "lines": pricing,
        },
        "dispute_history": {
            "total": len(found.disputes),
            "open": sum(1 for d in found.disputes if d.status == "open"),
            "recent": [d.model_dump(mode="json") for d in disputes[:DISPUTES_SHOWN]],
        },
        "amounts": {"invoice": str(match.invoice_amount), "payable_at_po_price": str(match.payable_amount)},
    }
