"""ERP procurement port: purchase orders, receipts and invoice vouchers (the sandbox's `/erp`)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from domain.purchasing import PurchaseOrder, Receipt, ReceiptLine
from domain.system_records import ErpInvoice, ErpInvoiceDraft, ErpPoLineChange, ErpPurchaseOrder, MatchedLine


class ErpProcurementPort(Protocol):
    async def create_purchase_order(self, po: PurchaseOrder, *, idempotency_key: str) -> ErpPurchaseOrder:
        """Raises BusinessRuleError `duplicate_po_number` when another request created this PO number."""
        ...

    async def get_purchase_order(self, po_number: str) -> ErpPurchaseOrder:
        """Raises NotFoundError when the ERP has no such PO."""
        ...

    def list_purchase_orders(
        self, *, supplier_id: str | None = None, status: str | None = None
    ) -> AsyncIterator[ErpPurchaseOrder]: ...

    async def change_po_line(
        self, po_number: str, line: int, change: ErpPoLineChange, *, idempotency_key: str
    ) -> ErpPurchaseOrder: ...

    async def hold_purchase_order(
        self, po_number: str, reason: str, *, kind: str, idempotency_key: str
    ) -> ErpPurchaseOrder: ...

    async def release_purchase_order(
        self, po_number: str, reason: str, *, idempotency_key: str
    ) -> ErpPurchaseOrder: ...

    async def cancel_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder:
        """Cancelling a cancelled PO is a no-op; a PO with receipts is refused (`has_receipts`)."""
        ...

    async def close_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> ErpPurchaseOrder: ...

    async def record_receipt(
        self, po_number: str, lines: list[ReceiptLine], *, received_by: str, idempotency_key: str
    ) -> Receipt: ...

    async def list_receipts(self, po_number: str) -> list[Receipt]: ...

    async def create_invoice(self, draft: ErpInvoiceDraft, *, idempotency_key: str) -> ErpInvoice: ...

    async def list_invoices(
        self, *, supplier_id: str | None = None, po_number: str | None = None
    ) -> list[ErpInvoice]: ...

    async def release_invoice(
        self,
        erp_invoice_id: str,
        reason: str,
        *,
        approved_amount: str,
        matched_lines: list[MatchedLine],
        idempotency_key: str,
    ) -> ErpInvoice:
        """Clears the voucher's holds and approves it for `approved_amount` (a decimal string),
        recording the PO-line quantities it pays for (`matched_lines`)."""
        ...

    async def cancel_invoice(self, erp_invoice_id: str, reason: str, *, idempotency_key: str) -> ErpInvoice: ...
