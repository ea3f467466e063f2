"""`TrytonProcurement`: `ErpProcurementPort` (adapters/erp_procurement.py) over Tryton purchases,
incoming shipments and supplier invoices, through JSON-RPC only (adapters/tryton/rpc.py).

Mapping (decisions):

- A PO is a `purchase.purchase` whose `reference` is our po_number (Tryton's `number` is
  read-only over RPC: its own sequence fills it). Party = the party whose `code` is the
  supplier_id, `invoice_method` "manual" (Tryton makes no invoice of its own: ours are made by
  `create_invoice`), purchase date = order_date, the default warehouse (WH) receives. Lines keep
  our line number in `sequence`; product by `code` = item_id, unit = the uom with the line's
  symbol in the product's uom category, need_by = the line's delivery date.
- Lifecycle: create = draft + `quote` (quotation: ordered, awaiting the vendor). Line changes
  (quantity, price, cancelling a line) need a draft purchase in Tryton, so a quotation goes
  draft -> write -> quote. The first receipt (or a close) confirms it, and Tryton processes it
  into incoming moves (processing). After that line quantities and prices are refused with
  `has_receipts` (409); promised dates and backorders still change (they live in our note).
  A cancelled line has quantity 0 in Tryton (no move is made for it); the note keeps what was ordered.
- What Tryton has no field for (holds, status reasons, contract/ship-to/bill-to, promised dates,
  backorders, the create's idempotency key) is kept in a SupplyBridge note at the end of the
  purchase's `comment`: a readable line ("SupplyBridge: PO ... open; on hold (manual): ...") and
  a JSON block read back into `ErpPurchaseOrder` (adapters/tryton/purchases.py).
- Status: cancelled = Tryton `cancelled` (or cancelled by us while processing: its moves
  cancelled); closed = Tryton `done` or closed by us; otherwise open. Close confirms a quotation,
  cancels the moves still waiting to arrive (Tryton then shows a shipment exception to handle)
  and marks the note closed: Tryton only reaches `done` once invoices are paid.
- Cancel: cancelled is a no-op, closed is `po_closed`, received goods are `has_receipts`.
  Draft/quotation purchases are cancelled in Tryton; a confirmed one goes back to draft first.
- Receipts are `stock.shipment.in` (receipt_id = its number) holding the purchase lines' moves
  with the received quantity and unit (a partial receipt takes that quantity off the waiting
  move; Tryton re-creates the remainder), received and done. The shipment's `reference` is our
  idempotency key, so a retry finds it (and finishes it if it stopped half way; a shipment Tryton
  refuses to receive is deleted again); `received_by` is an `ir.note` on it. Quantities must be
  more than zero (Tryton moves cannot be negative): `invalid_quantity` 422. Over-receipts are
  recorded, as on the sandbox: the PO workflow judges quantities before it calls the ERP, and
  Tryton's over-receipt warning is accepted for exactly that case (adapters/tryton/receipts.py).
- Invoices are `account.invoice` type "in" (adapters/tryton/invoices.py).

Idempotency: Tryton has no keys. Every change either finds the record it made (PO by
reference + the key in the note, shipment by reference, invoice by reference + key in the
note) or is a state change that is a no-op when repeated (hold, release, cancel, close, line
changes compare before writing). Two concurrent creates of one PO number with different keys
are not prevented by Tryton (no unique reference): the workflow never does that.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from adapters.errors import NotFoundError
from adapters.tryton.invoices import TrytonInvoices
from adapters.tryton.purchases import (
    EDITABLE_STATES,
    PURCHASE_FIELDS,
    TrytonBooks,
    erp_po_body,
    now_text,
    po_status,
    po_summary,
    read_note,
    refused,
    write_note,
)
from adapters.tryton.receipts import TrytonReceipts
from adapters.tryton.rpc import SYSTEM, TrytonRpc, decimal_quantity
from domain.purchasing import PurchaseOrder, Receipt, ReceiptLine
from domain.system_records import ErpInvoice, ErpInvoiceDraft, ErpPoLineChange, ErpPurchaseOrder, MatchedLine

PURCHASE = "purchase.purchase"


class TrytonProcurement:
    """`ErpProcurementPort` over one Tryton database."""

    def __init__(self, rpc: TrytonRpc) -> None:
        self._books = TrytonBooks(rpc)
        self._receipts = TrytonReceipts(self._books)
        self._invoices = TrytonInvoices(self._books)

    # -- purchase orders -----------------------------------------------------------------------------

    async def create_purchase_order(self, po: PurchaseOrder, *, idempotency_key: str) -> ErpPurchaseOrder:
        books = self._books
        existing = await books.find_purchase(po.po_number)
        if existing is not None:
            if read_note(existing.get("comment")).get("create_key") == idempotency_key:
                if existing["state"] != "draft":
                    return await self._shown(existing)
                await books.button(PURCHASE, "quote", [existing["id"]])  # the answer was lost before `quote`
                return await self.get_purchase_order(po.po_number)
            raise refused("duplicate_po_number", f"purchase order {po.po_number} already exists")
        party = await books.party(po.supplier_id)
        currency = await books.cached_id("currency.currency", "code", po.currency)
        if currency is None:
            raise refused("unknown_currency", f"currency {po.currency} is not in Tryton", 422)
        lines, extras = [], {}
        for line in po.lines:
            product = await books.product(line.item_id)
            need_by = line.need_by or po.need_by
            lines.append(
                {
                    "type": "line",
                    "sequence": line.line,
                    "product": product["id"],
                    "description": line.description or product.get("rec_name") or line.item_id,
                    "quantity": line.quantity,
                    "unit": await books.unit(product, line.uom),
                    "unit_price": line.unit_price,
                    **({"delivery_date_edit": True, "delivery_date": need_by} if need_by else {}),
                }
            )
            extras[str(line.line)] = {"need_by": need_by.isoformat() if need_by else None}
        note = {
            "po_number": po.po_number,
            "create_key": idempotency_key,
            "contract_ref": po.contract_ref,
            "ship_to": po.ship_to,
            "bill_to": po.bill_to,
            "requester": po.requester,
            "shipping": po.shipping,
            "hold": None,
            "status_reason": None,
            "lines": extras,
        }
        addresses = party.get("addresses") or []
        values: dict[str, Any] = {
            "party": party["id"],
            "currency": currency,
            "reference": po.po_number,
            "purchase_date": po.order_date or dt.date.today(),
            "invoice_method": "manual",
            "comment": write_note(None, note, po_summary(note, "open")),
            "lines": [("create", lines)],
            **({"invoice_address": addresses[0]} if addresses else {}),
        }
        [purchase_id] = await books.create(PURCHASE, [values])
        await books.button(PURCHASE, "quote", [purchase_id])
        return await self.get_purchase_order(po.po_number)

    async def get_purchase_order(self, po_number: str) -> ErpPurchaseOrder:
        return await self._shown(await self._books.require_purchase(po_number))

    async def list_purchase_orders(
        self, *, supplier_id: str | None = None, status: str | None = None
    ) -> AsyncIterator[ErpPurchaseOrder]:
        domain: list[Any] = [("reference", "!=", None), ("comment", "like", "%--- supplybridge ---%")]
        if supplier_id is not None:
            domain.append(("party.code", "=", supplier_id))
        for purchase in await self._books.search_read(
            PURCHASE, domain, ["id", *PURCHASE_FIELDS], order=[("id", "ASC")]
        ):
            if status is None or po_status(purchase) == status:
                yield await self._shown(purchase)

    async def change_po_line(
        self, po_number: str, line: int, change: ErpPoLineChange, *, idempotency_key: str
    ) -> ErpPurchaseOrder:
        books = self._books
        purchase = await self._require_open(po_number)
        target = next((row for row in await books.purchase_lines(purchase["id"]) if row["sequence"] == line), None)
        if target is None:
            raise NotFoundError(SYSTEM, f"purchase order {po_number} has no line {line}")
        note = read_note(purchase.get("comment"))
        extra = note.setdefault("lines", {}).setdefault(str(line), {})
        for name in ("promised_date", "backordered_quantity"):
            value = getattr(change, name)
            if value is not None:
                extra[name] = str(value) if name == "backordered_quantity" else value.isoformat()
        writes: dict[str, Any] = {}
        if change.quantity is not None and change.quantity != target["quantity"] and change.status != "cancelled":
            writes["quantity"] = change.quantity
        if change.unit_price is not None and change.unit_price != target["unit_price"]:
            writes["unit_price"] = change.unit_price
        if change.status == "cancelled" and extra.get("status") != "cancelled":
            extra.update(status="cancelled", quantity=str(change.quantity or decimal_quantity(target["quantity"])))
            writes["quantity"] = 0
        elif change.status == "open" and extra.get("status") == "cancelled":
            writes["quantity"] = change.quantity or extra.pop("quantity")
            extra["status"] = "open"
        if writes or purchase["state"] == "draft":  # draft: a retry after the write, before `quote`
            await self._write_line(purchase, target["id"], writes)
            purchase = await books.require_purchase(po_number)
        await books.save_note(PURCHASE, purchase, note, po_summary(note, "open"))
        return await self.get_purchase_order(po_number)

    async def hold_purchase_order(
        self, po_number: str, reason: str, *, kind: str, idempotency_key: str
    ) -> ErpPurchaseOrder:
        purchase = await self._require_open(po_number)
        note = read_note(purchase.get("comment"))
        held = note.get("hold")
        if not (held and held.get("reason") == reason and held.get("kind") == kind):  # a retry keeps placed_at
            note["hold"] = {"reason": reason, "kind": kind, "placed_at": now_text()}
            await self._books.save_note(PURCHASE, purchase, note, po_summary(note, "open"))
        return await self.get_purchase_order(po_number)

    async def release_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder:
        purchase = await self._books.require_purchase(po_number)
        note = {**read_note(purchase.get("comment")), "hold": None, "status_reason": reason}
        await self._books.save_note(PURCHASE, purchase, note, po_summary(note, po_status(purchase)))
        return await self.get_purchase_order(po_number)

    async def cancel_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder:
        books = self._books
        purchase = await books.require_purchase(po_number)
        status = po_status(purchase)
        if status == "cancelled":
            return await self._shown(purchase)
        if status == "closed":
            raise refused("po_closed", f"purchase order {po_number} is closed")
        if await books.received_shipments(purchase["id"]):
            raise refused("has_receipts", f"purchase order {po_number} has receipts: it cannot be cancelled")
        note = {**read_note(purchase.get("comment")), "status_reason": reason}
        if purchase["state"] == "confirmed":
            await books.button(PURCHASE, "draft", [purchase["id"]])
        if purchase["state"] in ("draft", "quotation", "confirmed"):
            await books.save_note(PURCHASE, purchase, note, po_summary(note, "cancelled"))
            await books.button(PURCHASE, "cancel", [purchase["id"]])
        else:  # processing without receipts: Tryton cannot cancel it, so its waiting moves are
            await self._receipts.cancel_waiting_moves(purchase["id"])
            note["cancelled"] = True
            await books.save_note(PURCHASE, purchase, note, po_summary(note, "cancelled"))
        return await self.get_purchase_order(po_number)

    async def close_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder:
        books = self._books
        purchase = await books.require_purchase(po_number)
        if po_status(purchase) == "closed":
            return await self._shown(purchase)
        await self._require_open(po_number)
        await self._receipts.ensure_processing(purchase)
        await self._receipts.cancel_waiting_moves(purchase["id"])
        purchase = await books.require_purchase(po_number)
        note = {**read_note(purchase.get("comment")), "closed": True, "status_reason": reason}
        await books.save_note(PURCHASE, purchase, note, po_summary(note, "closed"))
        return await self.get_purchase_order(po_number)

    # -- receipts -----------------------------------------------------------------------------------

    async def record_receipt(
        self, po_number: str, lines: list[ReceiptLine], *, received_by: str, idempotency_key: str
    ) -> Receipt:
        purchase = await self._books.require_purchase(po_number)
        done = await self._receipts.find(po_number, idempotency_key)
        if done is not None:
            return done
        if po_status(purchase) != "open":
            raise refused("po_not_open", f"purchase order {po_number} is {po_status(purchase)}")
        return await self._receipts.record(purchase, lines, received_by=received_by, key=idempotency_key)

    async def list_receipts(self, po_number: str) -> list[Receipt]:
        purchase = await self._books.require_purchase(po_number)
        return await self._receipts.list(purchase)

    # -- invoices -----------------------------------------------------------------------------------

    async def create_invoice(self, draft: ErpInvoiceDraft, *, idempotency_key: str) -> ErpInvoice:
        return await self._invoices.create(draft, key=idempotency_key)

    async def list_invoices(self, *, supplier_id: str | None = None, po_number: str | None = None) -> list[ErpInvoice]:
        return await self._invoices.list(supplier_id=supplier_id, po_number=po_number)

    async def release_invoice(
        self,
        erp_invoice_id: str,
        reason: str,
        *,
        approved_amount: str,
        matched_lines: list[MatchedLine],
        idempotency_key: str,
    ) -> ErpInvoice:
        return await self._invoices.release(erp_invoice_id, reason, approved_amount, matched_lines)

    async def cancel_invoice(self, erp_invoice_id: str, reason: str, *, idempotency_key: str) -> ErpInvoice:
        return await self._invoices.cancel(erp_invoice_id, reason)

    # -- helpers --------------------------------------------------------------------------------------

    async def _shown(self, purchase: dict[str, Any]) -> ErpPurchaseOrder:
        lines = await self._books.purchase_lines(purchase["id"])
        return ErpPurchaseOrder.model_validate(erp_po_body(purchase, lines))

    async def _require_open(self, po_number: str) -> dict[str, Any]:
        purchase = await self._books.require_purchase(po_number)
        status = po_status(purchase)
        if status != "open":
            raise refused("po_not_open", f"purchase order {po_number} is {status}")
        return purchase

    async def _write_line(self, purchase: dict[str, Any], line_id: int, values: dict[str, Any]) -> None:
        """Quantity and price writes: only a draft purchase takes them (quotation -> draft -> quote)."""
        if purchase["state"] not in EDITABLE_STATES:
            raise refused(
                "has_receipts",
                f"purchase order {purchase['reference']} is being received in Tryton: its lines can no longer change",
            )
        books = self._books
        if purchase["state"] == "quotation":
            await books.button(PURCHASE, "draft", [purchase["id"]])
        if values:
            await books.write("purchase.line", [line_id], values)
        await books.button(PURCHASE, "quote", [purchase["id"]])
