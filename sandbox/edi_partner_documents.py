"""What a trading partner's EDI software sends back to us, as the sandbox's partner writes it: an
855 accepting every line of an 850, in an envelope addressed back to the sender. (The partner's
software, not ours: the platform's writers are in domain/x12/.) Its 997s and TA1s are our
writer's (domain/x12/acks.py, called by `partner_acknowledgements` in vendor_channel_edi.py).

Decisions:
- The answer's envelope is the received one turned around: the partner's ISA/GS ids are the
  receiver ids of what it got, ours the sender ids; same X12 version and usage indicator; the
  standard delimiters of our writer (domain/x12/writer.py), whatever ours were.
- The 855 accepts every line (ACK01 `IA`) at the 850's quantity, unit and price, repeating the
  PO1's own elements (line number and product ids included) so each line reads back as sent. The
  promised date (ACK04 `068`) is the line's need-by date (a DTM `002` after its PO1), else the
  order's (DTM `002` in the header), else 7 days after the order date (BEG05; today when absent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from domain.x12 import writer
from domain.x12.acks import reply_envelope
from domain.x12.model import FunctionalGroup, Interchange, Segment, TransactionSet
from domain.x12.writer import ControlNumbers, TransactionBody

PROMISE_DAYS = 7
DELIVERY_REQUESTED = "002"  # DTM01 date qualifier
PROMISED_FOR_DELIVERY = "068"  # ACK04: current schedule ship/delivery


@dataclass(frozen=True)
class PurchaseOrderAnswer:
    po_number: str
    text: str


def accepted_purchase_orders(
    interchanges: list[Interchange],
) -> list[tuple[Interchange, FunctionalGroup, TransactionSet]]:
    """The 850s the reader found nothing wrong with (nor with their group or interchange)."""
    return [
        (interchange, group, transaction)
        for interchange in interchanges
        if not interchange.errors
        for group in interchange.groups
        if not group.errors
        for transaction in group.transactions
        if transaction.code == "850" and not transaction.errors
    ]


def po_number_of(transaction: TransactionSet) -> str:
    """BEG03; "" when the 850 has no BEG."""
    beg = next((segment for segment in transaction.body if segment.tag == "BEG"), None)
    return beg.element(3) if beg is not None else ""


def acceptance_855(
    received: Interchange, group: FunctionalGroup, order: TransactionSet, *, control_number: int, now: datetime
) -> PurchaseOrderAnswer:
    """An 855 accepting every line of `order` as ordered, in its own interchange."""
    po_number = po_number_of(order)
    beg = next((segment for segment in order.body if segment.tag == "BEG"), None)
    order_date = (_ccyymmdd(beg.element(5)) if beg is not None else None) or now.date()
    # BAK: original, acknowledge with detail, PO number and date, the partner's order number, today
    bak = ["00", "AD", po_number, f"{order_date:%Y%m%d}", "", "", "", f"A-{po_number}", f"{now:%Y%m%d}"]
    segments: list[tuple[str, Sequence[str]]] = [("BAK", bak)]
    header_need_by: date | None = None
    lines: list[tuple[Segment, date | None]] = []
    for segment in order.body:
        if segment.tag == "PO1":
            lines.append((segment, None))
        elif segment.tag == "DTM" and segment.element(1) == DELIVERY_REQUESTED:
            need_by = _ccyymmdd(segment.element(2))
            if lines:
                lines[-1] = (lines[-1][0], need_by)
            else:
                header_need_by = need_by
    fallback = header_need_by or order_date + timedelta(days=PROMISE_DAYS)
    for po1, need_by in lines:
        segments.append(("PO1", [element.strip() for element in po1.elements]))
        promised = need_by or fallback
        segments.append(("ACK", ["IA", po1.element(2), po1.element(3), PROMISED_FOR_DELIVERY, f"{promised:%Y%m%d}"]))
    segments.append(("CTT", [str(len(lines))]))
    envelope = reply_envelope(received, group, None, ControlNumbers(control_number, control_number), now)
    text = writer.interchange(envelope, "PR", [TransactionBody("855", segments)], [])
    return PurchaseOrderAnswer(po_number=po_number, text=text)


def _ccyymmdd(value: str) -> date | None:
    try:
        return datetime.strptime(value, "%Y%m%d").date() if len(value) == 8 else None
    except ValueError:
        return None
