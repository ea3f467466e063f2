"""In-memory ERP procurement, inventory, vendor channel and AP, honouring idempotency keys the
way the real systems do (same key -> the first answer), and recording every call. Each fake
subclasses its port, so the type checker reports a fake that drifts from it."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from adapters.accounts_payable import AccountsPayablePort
from adapters.erp_procurement import ErpProcurementPort
from adapters.errors import BusinessRuleError, NotFoundError
from adapters.inventory import InventoryPort
from adapters.vendor_channel import VendorChannelPort
from domain.purchasing import Invoice, PoAcknowledgement, PurchaseOrder, Receipt, ReceiptLine, normalise_invoice_number
from domain.system_records import (
    ApInvoice,
    ApInvoiceStatus,
    Dispute,
    ErpHold,
    ErpInvoice,
    ErpInvoiceDraft,
    ErpPoLine,
    ErpPoLineChange,
    ErpPoStatus,
    ErpPurchaseOrder,
    InventoryBalance,
    MatchedLine,
    Reservation,
    ReservationRequest,
    VendorNotification,
)


@dataclass
class Keyed:
    """Idempotency: the first answer per key, replayed; every call logged as (name, key)."""

    replies: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    fail_next: list[Exception] = field(default_factory=list)

    def replay(self, name: str, key: str | None) -> Any:
        self.calls.append((name, key))
        if key is not None and key in self.replies:
            return self.replies[key]
        if self.fail_next:
            raise self.fail_next.pop(0)
        return None

    def remember(self, key: str | None, value: Any) -> Any:
        if key is not None:
            self.replies[key] = value
        return value

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@dataclass
class FakeProcurementErp(Keyed, ErpProcurementPort):
    pos: dict[str, ErpPurchaseOrder] = field(default_factory=dict)
    receipts: dict[str, list[Receipt]] = field(default_factory=dict)
    invoices: dict[str, ErpInvoice] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def create_purchase_order(self, po: PurchaseOrder, *, idempotency_key: str) -> ErpPurchaseOrder:
        if (done := self.replay("create_purchase_order", idempotency_key)) is not None:
            return done
        if po.po_number in self.pos:
            raise BusinessRuleError("erp", "duplicate_po_number", "PO number exists", status=409)
        created = ErpPurchaseOrder(
            po_number=po.po_number,
            supplier_id=po.supplier_id,
            contract_ref=po.contract_ref,
            ship_to=po.ship_to,
            currency=po.currency,
            lines=[
                ErpPoLine(
                    line=line.line,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    uom=line.uom,
                    unit_price=line.unit_price,
                    need_by=line.need_by or po.need_by,
                )
                for line in po.lines
            ],
        )
        self.pos[po.po_number] = created
        return self.remember(idempotency_key, created)

    async def get_purchase_order(self, po_number: str) -> ErpPurchaseOrder:
        if po_number not in self.pos:
            raise NotFoundError("erp", f"purchase order {po_number} does not exist")
        return self.pos[po_number]

    async def list_purchase_orders(
        self, *, supplier_id: str | None = None, status: str | None = None
    ) -> AsyncIterator[ErpPurchaseOrder]:
        for po in list(self.pos.values()):
            if (supplier_id is None or po.supplier_id == supplier_id) and (status is None or po.status == status):
                yield po

    async def change_po_line(
        self, po_number: str, line: int, change: ErpPoLineChange, *, idempotency_key: str
    ) -> ErpPurchaseOrder:
        self.replay("change_po_line", idempotency_key)
        po = await self.get_purchase_order(po_number)
        target = po.line(line)
        assert target is not None
        for name, value in change.model_dump(exclude_none=True).items():
            setattr(target, name, value)
        return po

    async def hold_purchase_order(
        self, po_number: str, reason: str, *, kind: str, idempotency_key: str
    ) -> ErpPurchaseOrder:
        self.replay("hold_purchase_order", idempotency_key)
        po = await self.get_purchase_order(po_number)
        po.hold = ErpHold(reason=reason, kind=kind)
        return po

    async def release_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder:
        self.replay("release_purchase_order", idempotency_key)
        po = await self.get_purchase_order(po_number)
        po.hold = None
        return po

    async def cancel_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder:
        self.replay("cancel_purchase_order", idempotency_key)
        po = await self.get_purchase_order(po_number)
        po.status = ErpPoStatus.CANCELLED
        po.status_reason = reason
        return po

    async def close_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder:
        self.replay("close_purchase_order", idempotency_key)
        po = await self.get_purchase_order(po_number)
        po.status = ErpPoStatus.CLOSED
        return po

    async def record_receipt(
        self, po_number: str, lines: list[ReceiptLine], *, received_by: str, idempotency_key: str
    ) -> Receipt:
        if (done := self.replay("record_receipt", idempotency_key)) is not None:
            return done
        await self.get_purchase_order(po_number)
        receipt = Receipt(
            receipt_id=f"RCV-{next(self._ids):06d}",
            po_number=po_number,
            lines=lines,
            received_at=datetime.now(UTC),
            received_by=received_by,
        )
        self.receipts.setdefault(po_number, []).append(receipt)
        return self.remember(idempotency_key, receipt)

    async def list_receipts(self, po_number: str) -> list[Receipt]:
        return list(self.receipts.get(po_number, []))

    async def create_invoice(self, draft: ErpInvoiceDraft, *, idempotency_key: str) -> ErpInvoice:
        if (done := self.replay("create_invoice", idempotency_key)) is not None:
            return done
        voucher = ErpInvoice(
            erp_invoice_id=f"INV-{next(self._ids):06d}",
            invoice_number=draft.invoice.invoice_number,
            supplier_id=draft.invoice.supplier_id,
            po_number=draft.invoice.po_number,
            status=draft.status,
            holds=draft.holds,
            amount=draft.invoice.computed_total,
            approved_amount=draft.approved_amount,
            matched_lines=draft.matched_lines,
        )
        self.invoices[voucher.erp_invoice_id] = voucher
        return self.remember(idempotency_key, voucher)

    async def list_invoices(self, *, supplier_id: str | None = None, po_number: str | None = None) -> list[ErpInvoice]:
        return [
            v
            for v in self.invoices.values()
            if (supplier_id is None or v.supplier_id == supplier_id) and (po_number is None or v.po_number == po_number)
        ]

    async def release_invoice(
        self,
        erp_invoice_id: str,
        reason: str,
        *,
        approved_amount: str,
        matched_lines: list[MatchedLine],
        idempotency_key: str,
    ) -> ErpInvoice:
        self.replay("release_invoice", idempotency_key)
        voucher = self.invoices[erp_invoice_id]
        voucher.status, voucher.holds = "approved", []
        voucher.approved_amount = Decimal(approved_amount)
        voucher.matched_lines = matched_lines
        return voucher

    async def cancel_invoice(self, erp_invoice_id: str, reason: str, *, idempotency_key: str) -> ErpInvoice:
        self.replay("cancel_invoice", idempotency_key)
        voucher = self.invoices[erp_invoice_id]
        voucher.status = "cancelled"
        return voucher


@dataclass
class FakeInventory(Keyed, InventoryPort):
    """Balances set in `balances` (by location and item) are answered as they are; any other item
    asked for has 5 EA on hand and no reorder point."""

    reservations: dict[str, Reservation] = field(default_factory=dict)
    balances: dict[tuple[str, str], InventoryBalance] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def set_balance(self, balance: InventoryBalance) -> InventoryBalance:
        self.balances[(balance.location_id, balance.item_id)] = balance
        return balance

    async def get_balances(self, location_id: str, item_ids: list[str]) -> list[InventoryBalance]:
        self.calls.append(("get_balances", None))
        return [
            self.balances.get((location_id, item))
            or InventoryBalance(location_id=location_id, item_id=item, uom="EA", on_hand=Decimal(5))
            for item in item_ids
        ]

    async def below_reorder_point(self) -> list[InventoryBalance]:
        self.calls.append(("below_reorder_point", None))
        return [balance for balance in self.balances.values() if balance.below_reorder_point]

    async def reserve(self, request: ReservationRequest, *, idempotency_key: str) -> Reservation:
        if (done := self.replay("reserve", idempotency_key)) is not None:
            return done
        reservation = Reservation(reservation_id=f"RSV-{next(self._ids):06d}", **request.model_dump())
        self.reservations[reservation.reservation_id] = reservation
        return self.remember(idempotency_key, reservation)

    async def release(self, reservation_id: str, *, idempotency_key: str) -> Reservation:
        self.replay("release", idempotency_key)
        reservation = self.reservations[reservation_id]
        reservation.status = "released"
        return reservation

    async def fulfil(self, reservation_id: str, quantity: Decimal, uom: str, *, idempotency_key: str) -> Reservation:
        self.replay("fulfil", idempotency_key)
        reservation = self.reservations[reservation_id]
        reservation.fulfilled_quantity += quantity
        return reservation

    def active(self) -> list[Reservation]:
        return [r for r in self.reservations.values() if r.status == "active"]


@dataclass
class FakeVendorChannel(Keyed, VendorChannelPort):
    """`edi_sent` records each X12 interchange sent once per idempotency key, as (partner id,
    text); an interchange carrying an 850 is answered with `edi_acknowledgement` (a canned 997
    a test sets; None: no answer), anything else with None, as the sandbox partner does."""

    sent: dict[str, VendorNotification] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    edi_sent: list[tuple[str, str]] = field(default_factory=list)
    edi_acknowledgement: str | None = None

    async def send_purchase_order(self, notification: VendorNotification, *, idempotency_key: str) -> None:
        self.replay("send_purchase_order", idempotency_key)
        self.sent[notification.po_number] = notification

    async def cancel_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> None:
        self.replay("cancel_purchase_order", idempotency_key)
        self.cancelled.append(po_number)

    async def get_acknowledgement(self, po_number: str) -> PoAcknowledgement | None:
        return None

    async def send_edi(self, partner_id: str, text: str, *, idempotency_key: str) -> str | None:
        answered = self.replay("send_edi", idempotency_key)
        if idempotency_key in self.replies:  # a retry: the first answer, nothing sent again
            return str(answered) if answered is not None else None
        self.edi_sent.append((partner_id, text))
        element = text.lstrip("\ufeff \t\r\n")[3:4] or "*"  # the ISA's element separator
        carries_850 = f"ST{element}850{element}" in text
        answer = self.edi_acknowledgement if carries_850 else None
        self.remember(idempotency_key, answer)
        return answer


@dataclass
class FakeAp(Keyed, AccountsPayablePort):
    invoices: dict[str, ApInvoice] = field(default_factory=dict)
    disputes: dict[str, Dispute] = field(default_factory=dict)
    approvals: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def find_invoices(
        self, *, supplier_id: str, invoice_number: str | None = None, po_number: str | None = None
    ) -> list[ApInvoice]:
        wanted = normalise_invoice_number(invoice_number) if invoice_number else None
        return [
            i
            for i in self.invoices.values()
            if i.supplier_id == supplier_id
            and (wanted is None or i.normalised_number == wanted)
            and (po_number is None or i.po_number == po_number)
        ]

    async def capture(self, invoice: Invoice, *, captured_by: str, idempotency_key: str) -> ApInvoice:
        if (done := self.replay("capture", idempotency_key)) is not None:
            return done
        number = normalise_invoice_number(invoice.invoice_number)
        if await self.find_invoices(supplier_id=invoice.supplier_id, invoice_number=invoice.invoice_number):
            raise BusinessRuleError("ap", "duplicate_invoice", "invoice number already captured", status=409)
        captured = ApInvoice(
            ap_invoice_id=f"AP-{next(self._ids):06d}",
            invoice_number=invoice.invoice_number,
            normalised_number=number,
            supplier_id=invoice.supplier_id,
            po_number=invoice.po_number,
            invoice_date=invoice.invoice_date,
            amount=invoice.computed_total,
            captured_by=captured_by,
        )
        self.invoices[captured.ap_invoice_id] = captured
        return self.remember(idempotency_key, captured)

    async def approve(
        self, ap_invoice_id: str, amount: Decimal, *, reason: str, approved_by: str, idempotency_key: str
    ) -> ApInvoice:
        self.replay("approve", idempotency_key)
        invoice = self.invoices[ap_invoice_id]
        if invoice.status is ApInvoiceStatus.APPROVED:
            return invoice
        self.approvals.append(ap_invoice_id)
        invoice.status, invoice.approved_amount, invoice.payment_status = ApInvoiceStatus.APPROVED, amount, "scheduled"
        return invoice

    async def mark_exception(
        self, ap_invoice_id: str, *, kinds: list[str], team: str, summary: str, idempotency_key: str
    ) -> ApInvoice:
        self.replay("mark_exception", idempotency_key)
        invoice = self.invoices[ap_invoice_id]
        invoice.status, invoice.exception = ApInvoiceStatus.EXCEPTION, {"kinds": kinds, "team": team}
        return invoice

    async def request_credit_memo(
        self, ap_invoice_id: str, amount: Decimal, *, reason: str, idempotency_key: str
    ) -> ApInvoice:
        self.replay("request_credit_memo", idempotency_key)
        invoice = self.invoices[ap_invoice_id]
        invoice.status = ApInvoiceStatus.CREDIT_MEMO_REQUESTED
        return invoice

    async def reject(self, ap_invoice_id: str, *, reason: str, idempotency_key: str) -> ApInvoice:
        self.replay("reject", idempotency_key)
        invoice = self.invoices[ap_invoice_id]
        invoice.status = ApInvoiceStatus.REJECTED
        return invoice

    async def list_disputes(self, supplier_id: str) -> list[Dispute]:
        return [d for d in self.disputes.values() if d.supplier_id == supplier_id]

    async def record_dispute(self, dispute: Dispute, *, idempotency_key: str) -> Dispute:
        self.replay("record_dispute", idempotency_key)
        self.disputes[dispute.dispute_id] = dispute
        return dispute
