"""855 purchase order acknowledgement -> `PoAcknowledgement`, exactly what the vendor channel's
webhook carries for the same answer (sandbox/vendor_channel.py `acknowledgement_lines`).

Decisions:
- One acknowledgement line per PO1 (line = PO101), its status from the ACK(s) that follow it.
  Accepted, changed and backordered lines carry the confirmed quantity (the sum of the ACK02s, in
  the PO1's unit: an ACK in another unit is converted through the item master); a backorder also
  carries the backordered part (the IB ACKs) and the promised date; a price change carries PO104
  as the new unit price; a rejected line carries only a note, as the webhook's does.
- Several ACKs on one PO1 combine only as accepted plus backordered parts (`IA 20` + `IB 10`);
  any other mix (IA + IR ...) is an error for a person, not a guess.
- The promised date: ACK05 when ACK04 is 068 (current schedule ship), 067 or 017.
- `acknowledged_at`: BAK09 (the acknowledgement date) at the group's time if it is the group's
  day, else at midnight; without BAK09 the group's date and time (UTC: X12 has no time zone).
- A PO1 without ACK is accepted as sent, except in a rejection (BAK02 RJ or RD): rejected. A
  whole-order rejection without any PO1 is an error: our acknowledgement model accepts every line
  it does not mention, so it cannot say "all rejected" without lines.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from domain.purchasing import AckLineStatus, PoAcknowledgement
from domain.x12 import map_common as x
from domain.x12.codes import PROMISED_DATE_QUALIFIERS, UnknownCode, ack_status
from domain.x12.context import MappingContext, MappingError
from domain.x12.model import Segment, TransactionSet

WHOLE_ORDER_REJECTIONS = ("RJ", "RD")


def map_855(ts: TransactionSet, ctx: MappingContext) -> PoAcknowledgement:
    sources = x.Sources()
    bak: Segment | None = None
    n1_supplier: Segment | None = None
    lines: list[tuple[Segment, list[Segment]]] = []
    for segment in x.body(ts, "BAK"):
        if segment.tag == "BAK" and bak is None:
            bak = segment
        elif segment.tag == "N1" and segment.element(1) in ("SU", "VN", "SE"):
            n1_supplier = segment
        elif segment.tag == "PO1":
            lines.append((segment, []))
        elif segment.tag == "ACK" and lines:
            lines[-1][1].append(segment)
    assert bak is not None  # x.body checked
    po_number = x.text(bak, 3, "po_number")
    sources.note("po_number", bak, 3)
    if not lines and bak.element(2) in WHOLE_ORDER_REJECTIONS:
        raise MappingError(
            "lines",
            f"BAK02 {bak.element(2)} rejects the order without PO1 lines: cannot be acknowledged line by line",
            bak.position,
            "BAK02",
        )
    data: dict[str, Any] = {
        "event_id": ctx.event_id,
        "po_number": po_number,
        "supplier_id": x.partner_supplier(ctx, n1_supplier),
        "acknowledged_at": _acknowledged_at(bak, ctx),
        "lines": [_line(index, po1, acks, bak, ctx, sources) for index, (po1, acks) in enumerate(lines)],
    }
    return sources.build(PoAcknowledgement, data)


def _acknowledged_at(bak: Segment, ctx: MappingContext) -> datetime:
    sent = ctx.identity.sent_at
    day = x.optional_date(bak, 9, "acknowledged_at")
    if day is None:
        if sent is None:
            raise MappingError("acknowledged_at", "no BAK09 date and no readable GS04/GS05", bak.position, "BAK09")
        return sent
    if sent is not None and sent.date() == day:
        return sent
    return datetime.combine(day, time(0), tzinfo=UTC)


def _line(
    index: int, po1: Segment, acks: list[Segment], bak: Segment, ctx: MappingContext, sources: x.Sources
) -> dict[str, Any]:
    at = f"lines[{index}]"
    sources.note(at, po1)
    number = x.integer(po1, 1, f"{at}.line")
    ordered_unit = x.unit(po1, 3, f"{at}.uom") if po1.element(3) else None
    if not acks and bak.element(2) in WHOLE_ORDER_REJECTIONS:  # a PO1 without ACK in a rejection
        return {"line": number, "status": AckLineStatus.REJECTED, "note": f"order rejected (BAK02 {bak.element(2)})"}
    if not acks:  # a PO1 without ACK: the line as sent, accepted
        quantity = x.optional_decimal(po1, 2, f"{at}.quantity")
        return {"line": number, "status": AckLineStatus.ACCEPTED, "quantity": quantity}
    parts = [(ack, _status(ack, f"{at}.status")) for ack in acks]
    statuses = {status for _, status in parts}
    if len(parts) > 1 and not statuses <= {AckLineStatus.ACCEPTED, AckLineStatus.BACKORDERED}:
        codes = " + ".join(ack.element(1) for ack in acks)
        raise MappingError(
            f"{at}.status",
            f"line {number} has ACKs {codes}: only accepted and backordered parts combine",
            acks[0].position,
            "ACK01",
        )
    status = AckLineStatus.BACKORDERED if AckLineStatus.BACKORDERED in statuses else parts[0][1]
    if status is AckLineStatus.REJECTED:
        return {"line": number, "status": status, "note": f"rejected by the supplier (ACK01 {acks[0].element(1)})"}
    quantities = [_quantity(ack, po1, ordered_unit, ctx, f"{at}.quantity") for ack in acks]
    line: dict[str, Any] = {"line": number, "status": status}
    if all(q is not None for q in quantities):
        line["quantity"] = sum((q for q in quantities if q is not None), Decimal(0))
    else:
        line["quantity"] = x.optional_decimal(po1, 2, f"{at}.quantity")
    if status is AckLineStatus.BACKORDERED:
        backordered = [q for (_, s), q in zip(parts, quantities, strict=True) if s is AckLineStatus.BACKORDERED]
        line["backordered_quantity"] = sum((q for q in backordered if q is not None), Decimal(0)) or None
    if status is AckLineStatus.PRICE_CHANGED:
        line["unit_price"] = x.decimal(po1, 4, f"{at}.unit_price")
        sources.note(f"{at}.unit_price", po1, 4)
    promised = _promised_date(parts, at)
    if promised is not None:
        line["promised_date"] = promised
    return line


def _status(ack: Segment, field: str) -> AckLineStatus:
    code = x.text(ack, 1, field)
    try:
        return ack_status(code)
    except UnknownCode as error:
        raise MappingError(field, str(error), ack.position, "ACK01", x.INVALID_CODE) from None


def _quantity(ack: Segment, po1: Segment, ordered_unit: str | None, ctx: MappingContext, field: str) -> Decimal | None:
    quantity = x.optional_decimal(ack, 2, field)
    if quantity is None or not ack.element(3):
        return quantity
    acked_unit = x.unit(ack, 3, field.replace("quantity", "uom"))
    if ordered_unit is None or acked_unit == ordered_unit:
        return quantity
    item = x.item(ctx, po1, 6, field.replace("quantity", "item"))
    try:
        return item.convert(quantity, acked_unit, ordered_unit)
    except ValueError as error:
        raise MappingError(field, str(error), ack.position, "ACK03") from None


def _promised_date(parts: list[tuple[Segment, AckLineStatus]], at: str) -> date | None:
    """The backordered part's date first, else the first ACK's."""
    ordered = sorted(parts, key=lambda part: part[1] is not AckLineStatus.BACKORDERED)
    for ack, _ in ordered:
        if ack.element(4) in PROMISED_DATE_QUALIFIERS and ack.element(5):
            return x.ccyymmdd(ack, 5, f"{at}.promised_date")
    return None
