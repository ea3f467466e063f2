"""The 850 we send a supplier that trades by EDI, instead of the JSON notification.

Decisions:
- What it carries: BEG (00 original, SA stand-alone, the PO number, the order date), CUR (BY,
  the currency), REF CT (the contract number), PER BD (the requester), DTM 002 (need-by, of the
  order and of each line that has one), TD5 with service level ES when the PO is expedited, N1 ST
  and BT (our GLN as `UL`, our location id as `92` when a location has none) and N1 SU (the
  supplier by our id, `92`), one PO1 per line (quantity, X12 unit, price, and its ids: the GTIN
  `UK`, the manufacturer's part `VP`, our item id `BP`, in the order suppliers echo them), a PID
  F with a line's description, and CTT with the line count.
- The order date defaults to `now`'s day (the PO workflow fills it before sending).
- An item not in the reference data is sent with our id (`BP`) only; a unit without an X12 code
  is an error naming the line (the supplier could not read it).
- map_850 reads what this writes back into the same PurchaseOrder (tests round-trip it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from domain.purchasing import PurchaseOrder, PurchaseOrderLine
from domain.x12.codes import DATE_DELIVERY_REQUESTED, EXPEDITED_SERVICE_LEVEL, UnknownCode, unit_to_x12
from domain.x12.context import ReferenceData
from domain.x12.model import Delimiters
from domain.x12.writer import STANDARD, ControlNumbers, Envelope, Party, TransactionBody, free_text, interchange, number

NAME_LENGTH, DESCRIPTION_LENGTH, CONTACT_LENGTH = 60, 80, 60
Rows = list[tuple[str, Sequence[str]]]


def purchase_order_850(
    po: PurchaseOrder,
    *,
    partner: Party,
    us: Party,
    reference: ReferenceData,
    control: ControlNumbers,
    now: datetime,
    contract_number: str | None = None,
    supplier_name: str | None = None,
    purpose: str = "00",
    isa_version: str = "00401",
    gs_version: str = "004010",
    usage: str = "P",
    delimiters: Delimiters = STANDARD,
) -> str:
    """The 850 interchange for `po` (see the module's decisions). `contract_number` is the
    number the supplier knows the contract by (defaults to the PO's `contract_ref`); `purpose` is
    BEG01: `00` original, `01` cancellation (the same order, withdrawn)."""
    d = delimiters
    rows: Rows = [("BEG", [purpose, "SA", po.po_number, "", _ccyymmdd(po.order_date or now.date())])]
    rows.append(("CUR", ["BY", po.currency]))
    if contract_number or po.contract_ref:
        rows.append(("REF", ["CT", contract_number or po.contract_ref or ""]))
    rows.append(("PER", ["BD", free_text(po.requester, d, CONTACT_LENGTH)]))
    if po.need_by:
        rows.append(("DTM", [DATE_DELIVERY_REQUESTED, _ccyymmdd(po.need_by)]))
    if po.shipping == "expedited":
        rows.append(("TD5", [""] * 11 + [EXPEDITED_SERVICE_LEVEL]))
    rows.append(_location("ST", po.ship_to, reference, d))
    rows.append(_location("BT", po.bill_to, reference, d))
    rows.append(("N1", ["SU", free_text(supplier_name or "", d, NAME_LENGTH), "92", po.supplier_id]))
    for index, line in enumerate(po.lines):
        rows += _line(index, line, po, reference, d)
    rows.append(("CTT", [str(len(po.lines))]))
    env = Envelope(
        sender=us,
        receiver=partner,
        control=control,
        now=now,
        isa_version=isa_version,
        gs_version=gs_version,
        usage=usage,
        ack_requested=False,
        delimiters=d,
    )
    return interchange(env, "PO", [TransactionBody("850", rows)], [])


def _ccyymmdd(day: date) -> str:
    return day.strftime("%Y%m%d")


def _location(function: str, location_id: str, reference: ReferenceData, d: Delimiters) -> tuple[str, list[str]]:
    location = reference.locations.get(location_id)
    name = free_text(location.name, d, NAME_LENGTH) if location else ""
    if location is not None and location.gln:
        return ("N1", [function, name, "UL", location.gln])
    return ("N1", [function, name, "92", location_id])


def _line(index: int, line: PurchaseOrderLine, po: PurchaseOrder, reference: ReferenceData, d: Delimiters) -> Rows:
    try:
        unit = unit_to_x12(line.uom)
    except UnknownCode as error:
        raise ValueError(f"lines[{index}].uom: {error}") from None
    ids: list[str] = []
    item = reference.items.get(line.item_id)
    if item is not None and item.gtin:
        ids += ["UK", item.gtin]
    if item is not None and item.mfr_part:
        ids += ["VP", item.mfr_part]
    ids += ["BP", line.item_id]
    rows: Rows = [("PO1", [str(line.line), number(line.quantity), unit, number(line.unit_price), "", *ids])]
    if line.description:
        rows.append(("PID", ["F", "", "", "", free_text(line.description, d, DESCRIPTION_LENGTH)]))
    if line.need_by:
        rows.append(("DTM", [DATE_DELIVERY_REQUESTED, _ccyymmdd(line.need_by)]))
    return rows
