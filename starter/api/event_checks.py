"""The checks an inbound event's body gets at the API, as strict as the CLI's inputs: values wrong
in themselves (a receipt of -5, a price change without a price) are 422 naming the field; checked
against the PO's status query (who its supplier is, each line's ordered and received quantity,
the receipts it has counted), lines the PO does not have are 422 and more than a line still
expects is 409. Each raises one problem listing every field at fault.

A receipt in another unit than its PO line's cannot be converted here (the item master is the
workflow's): its quantity is checked to be positive and the line to expect more, and the PO
workflow converts it. A receipt the PO has already counted (its own receipts, echoed by the ERP)
is not checked against the lines again: the workflow counts each receipt id once.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from domain.po_models import PoLineProgress, PoStatus
from domain.purchasing import MAX_QUANTITY, MAX_UNIT_PRICE, AckLineStatus, PoAcknowledgement, Receipt
from starter.api.problems import ProblemError

Issue = tuple[str, str]  # (field, reason)


def _refuse(status: int, title: str, issues: list[Issue]) -> None:
    if issues:
        detail = "; ".join(f"{field}: {reason}" for field, reason in issues[:5])
        errors = [{"field": field, "reason": reason} for field, reason in issues]
        raise ProblemError(status, title, detail, errors=errors)


def _amount(field: str, value: Decimal | None, limit: Decimal, what: str) -> list[Issue]:
    if value is None:
        return []
    if not value.is_finite() or value <= 0:
        return [(field, f"{what} must be more than zero")]
    if value > limit:
        return [(field, f"{what} must be at most {limit}")]
    return []


def check_acknowledgement(ack: PoAcknowledgement, status: PoStatus | None) -> None:
    """422 for an acknowledgement whose lines are malformed, or (with the PO's status) name a
    line the PO does not have, backorder more than it orders, or another supplier."""
    issues: list[Issue] = []
    seen: set[int] = set()
    lines = {line.line: line for line in status.lines} if status is not None else {}
    if status is not None and ack.supplier_id is not None and ack.supplier_id != status.supplier_id:
        issues.append(("supplier_id", f"PO {ack.po_number} is for supplier {status.supplier_id}"))
    for index, ack_line in enumerate(ack.lines):
        at = f"lines.{index}"
        if ack_line.line in seen:
            issues.append((f"{at}.line", f"line {ack_line.line} is acknowledged twice"))
        seen.add(ack_line.line)
        if ack_line.status is AckLineStatus.QUANTITY_CHANGED and ack_line.quantity is None:
            issues.append((f"{at}.quantity", "a quantity change needs the quantity"))
        if ack_line.status is AckLineStatus.PRICE_CHANGED and ack_line.unit_price is None:
            issues.append((f"{at}.unit_price", "a price change needs the unit price"))
        issues += _amount(f"{at}.quantity", ack_line.quantity, MAX_QUANTITY, "the quantity")
        issues += _amount(f"{at}.unit_price", ack_line.unit_price, MAX_UNIT_PRICE, "the unit price")
        issues += _amount(f"{at}.backordered_quantity", ack_line.backordered_quantity, MAX_QUANTITY,
                          "the backordered quantity")  # fmt: skip
        if status is None:
            continue
        line = lines.get(ack_line.line)
        if line is None:
            issues.append((f"{at}.line", f"PO {ack.po_number} has no line {ack_line.line}"))
        elif ack_line.backordered_quantity is not None and ack_line.backordered_quantity > line.ordered:
            issues.append((f"{at}.backordered_quantity", f"line {line.line} orders only {_q(line.ordered)} {line.uom}"))
    _refuse(422, "Invalid acknowledgement", issues)


def check_receipt(receipt: Receipt, status: PoStatus | None) -> None:
    """422 for a receipt with no lines, a quantity of zero or less, or (with the PO's status) a
    line the PO does not have; 409 for a cancelled line or more than a line still expects."""
    issues: list[Issue] = [] if receipt.lines else [("lines", "a receipt has at least one line")]
    for index, received in enumerate(receipt.lines):
        issues += _amount(f"lines.{index}.quantity", received.quantity, MAX_QUANTITY, "the quantity")
    _refuse(422, "Invalid receipt", issues)
    if status is None or receipt.receipt_id in status.receipts:
        return
    lines = {line.line: line for line in status.lines}
    unknown = [(f"lines.{i}.line", f"PO {receipt.po_number} has no line {r.line}")
               for i, r in enumerate(receipt.lines) if r.line not in lines]  # fmt: skip
    _refuse(422, "Invalid receipt", unknown)
    _refuse(409, "More than expected", _over_receipts(receipt, lines))


def _over_receipts(receipt: Receipt, lines: dict[int, PoLineProgress]) -> list[Issue]:
    issues: list[Issue] = []
    taken: dict[int, Decimal] = defaultdict(Decimal)
    for index, received in enumerate(receipt.lines):
        line = lines[received.line]
        if line.cancelled:
            issues.append((f"lines.{index}.line", f"line {line.line} is cancelled"))
            continue
        expected = line.open_to_receive - taken[line.line]
        if received.uom == line.uom:
            taken[line.line] += received.quantity
            if received.quantity > expected:
                still = f"{_q(max(expected, Decimal(0)))} {line.uom}"
                reason = f"{_q(received.quantity)} {received.uom} is more than line {line.line} still expects ({still})"
                issues.append((f"lines.{index}.quantity", reason))
        elif expected <= 0:
            issues.append((f"lines.{index}.quantity", f"line {line.line} expects nothing more"))
    return issues


def _q(value: Decimal) -> str:
    return f"{value.normalize():f}"
