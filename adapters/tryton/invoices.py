"""ERP invoice vouchers as Tryton supplier invoices (`account.invoice`, type "in").

- erp_invoice_id = the Tryton invoice id (a decimal string); invoice_number in `reference`;
  the party is the supplier; `invoice_date` as invoiced. One invoice line per our line, linked to
  the PO's purchase line (`origin` = purchase.line, so Tryton's purchase shows what is
  invoiced), with product, quantity, unit and price; freight and tax are lines without a product
  on the product's expense account (no Tryton taxes are configured), so the Tryton total is
  our invoice's computed total (`amount`).
- "approved for payment" = posted: an approved draft is posted at once, a held one stays a draft
  until `release` (which posts it). Holds, approved_amount, matched lines, the status reason and
  the create's idempotency key are a SupplyBridge note at the end of the invoice's `comment`
  (adapters/tryton/purchases.py), written while the invoice is still a draft (Tryton freezes
  the comment once posted). Cancel cancels a draft; a posted invoice is `invoice_approved` (409).
- Status: Tryton cancelled -> cancelled; posted or paid -> approved; a draft -> on_hold.
  payment_status is "paid" once Tryton's state is paid, else "unpaid".
- A retried create finds the invoice with the same reference, party and key in its note.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.errors import NotFoundError
from adapters.tryton.purchases import TrytonBooks, read_note, refused, related, write_note
from adapters.tryton.rpc import SYSTEM
from domain.system_records import ErpInvoice, ErpInvoiceDraft, MatchedLine

INVOICE = "account.invoice"
INVOICE_FIELDS = ["id", "reference", "party.code", "state", "total_amount", "comment"]
NOTE_SEARCH = "%--- supplybridge ---%"


def invoice_status(row: Mapping[str, Any]) -> str:
    state = row["state"]
    if state == "cancelled":
        return "cancelled"
    return "approved" if state in ("posted", "paid") else "on_hold"


def erp_invoice(row: Mapping[str, Any]) -> ErpInvoice:
    note = read_note(row.get("comment"))
    status = invoice_status(row)
    return ErpInvoice(
        erp_invoice_id=str(row["id"]),
        invoice_number=row["reference"],
        supplier_id=related(row, "party.code"),
        po_number=note.get("po_number"),
        status=status,
        holds=[] if status == "approved" else note.get("holds", []),
        amount=row["total_amount"],
        approved_amount=note.get("approved_amount"),
        payment_status="paid" if row["state"] == "paid" else "unpaid",
        matched_lines=note.get("matched_lines", []),
    )


def summary(note: Mapping[str, Any]) -> str:
    holds = ", ".join(hold["code"] for hold in note.get("holds", []))
    return f"invoice {note.get('invoice_number')} {note.get('status')}" + (f" (holds: {holds})" if holds else "")


class TrytonInvoices:
    def __init__(self, books: TrytonBooks) -> None:
        self._books = books

    async def create(self, draft: ErpInvoiceDraft, *, key: str) -> ErpInvoice:
        books, invoice = self._books, draft.invoice
        for row in await books.search_read(
            INVOICE,
            [("type", "=", "in"), ("reference", "=", invoice.invoice_number), ("comment", "like", NOTE_SEARCH)],
            INVOICE_FIELDS,
        ):
            if read_note(row.get("comment")).get("create_key") == key:
                if draft.status == "approved" and row["state"] == "draft":  # lost before it was posted
                    await books.button(INVOICE, "post", [row["id"]])
                    return await self._get(str(row["id"]))
                return erp_invoice(row)
        party = await books.party(invoice.supplier_id)
        purchase = await books.find_purchase(invoice.po_number)
        po_lines = (
            {row["sequence"]: row["id"] for row in await books.purchase_lines(purchase["id"])} if purchase else {}
        )
        currency = await books.cached_id("currency.currency", "code", invoice.currency)
        journal = await books.one_id("account.journal", [("type", "=", "expense")])
        lines, expense_account = [], None
        for line in invoice.lines:
            product = await books.product(line.item_id)
            expense_account = await books.expense_account(product)
            origin = po_lines.get(line.po_line)
            lines.append(
                {
                    "type": "line",
                    "sequence": line.line,
                    "product": product["id"],
                    "description": line.description or product.get("rec_name"),
                    "quantity": line.quantity,
                    "unit": await books.unit(product, line.uom),
                    "unit_price": line.unit_price,
                    "account": expense_account,
                    **({"origin": f"purchase.line,{origin}"} if origin else {}),
                }
            )
        for label, amount in (("Freight", invoice.freight), ("Tax", invoice.tax)):
            if amount:
                lines.append(
                    {
                        "type": "line",
                        "description": label,
                        "quantity": 1,
                        "unit_price": amount,
                        "account": expense_account,
                    }
                )
        note = {
            "create_key": key,
            "invoice_number": invoice.invoice_number,
            "po_number": invoice.po_number,
            "status": draft.status,
            "holds": [hold.model_dump(mode="json") for hold in draft.holds],
            "approved_amount": None if draft.approved_amount is None else str(draft.approved_amount),
            "matched_lines": [line.model_dump(mode="json") for line in draft.matched_lines],
        }
        addresses = party.get("addresses") or []
        [invoice_id] = await books.create(
            INVOICE,
            [
                {
                    "type": "in",
                    "party": party["id"],
                    "account": await books.payable_account(party),
                    "currency": currency,
                    "journal": journal,
                    "invoice_date": invoice.invoice_date,
                    "reference": invoice.invoice_number,
                    "comment": write_note(None, note, summary(note)),
                    "lines": [("create", lines)],
                    **({"invoice_address": addresses[0]} if addresses else {}),
                }
            ],
        )
        if draft.status == "approved":
            await books.button(INVOICE, "post", [invoice_id])
        return await self._get(str(invoice_id))

    async def list(self, *, supplier_id: str | None = None, po_number: str | None = None) -> list[ErpInvoice]:
        domain: list[Any] = [("type", "=", "in"), ("comment", "like", NOTE_SEARCH)]
        if supplier_id is not None:
            domain.append(("party.code", "=", supplier_id))
        rows = await self._books.search_read(INVOICE, domain, INVOICE_FIELDS, order=[("id", "ASC")])
        found = [erp_invoice(row) for row in rows]
        return [v for v in found if po_number is None or v.po_number == po_number]

    async def release(
        self, erp_invoice_id: str, reason: str, approved_amount: str, matched_lines: Sequence[MatchedLine]
    ) -> ErpInvoice:
        row = await self._require(erp_invoice_id)
        status = invoice_status(row)
        if status == "cancelled":
            raise refused("invoice_cancelled", f"invoice {erp_invoice_id} is cancelled")
        if status == "approved":  # posted: released before (a retry), Tryton keeps it as it is
            return erp_invoice(row)
        note = {
            **read_note(row.get("comment")),
            "status": "approved",
            "holds": [],
            "approved_amount": str(Decimal(approved_amount)),
            "matched_lines": [line.model_dump(mode="json") for line in matched_lines],
            "status_reason": reason,
        }
        await self._books.save_note(INVOICE, row, note, summary(note))
        await self._books.button(INVOICE, "post", [row["id"]])
        return await self._get(erp_invoice_id)

    async def cancel(self, erp_invoice_id: str, reason: str) -> ErpInvoice:
        row = await self._require(erp_invoice_id)
        status = invoice_status(row)
        if status == "cancelled":
            return erp_invoice(row)
        if status == "approved":
            raise refused("invoice_approved", f"invoice {erp_invoice_id} is approved for payment")
        note = {**read_note(row.get("comment")), "status": "cancelled", "status_reason": reason}
        await self._books.save_note(INVOICE, row, note, summary(note))
        await self._books.button(INVOICE, "cancel", [row["id"]])
        return await self._get(erp_invoice_id)

    async def _get(self, erp_invoice_id: str) -> ErpInvoice:
        return erp_invoice(await self._require(erp_invoice_id))

    async def _require(self, erp_invoice_id: str) -> dict[str, Any]:
        found = []
        if erp_invoice_id.isdigit():
            found = await self._books.search_read(
                INVOICE, [("id", "=", int(erp_invoice_id)), ("type", "=", "in")], INVOICE_FIELDS
            )
        if not found:
            raise NotFoundError(SYSTEM, f"invoice {erp_invoice_id} does not exist")
        return found[0]
