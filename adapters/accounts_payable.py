"""Accounts-payable automation port: captured invoices, approval for payment, disputes
(the sandbox's `/ap`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.purchasing import Invoice
from domain.system_records import ApInvoice, Dispute


class AccountsPayablePort(Protocol):
    async def find_invoices(
        self, *, supplier_id: str, invoice_number: str | None = None, po_number: str | None = None
    ) -> list[ApInvoice]:
        """`invoice_number` matches on the normalised number (domain.purchasing.normalise_invoice_number)."""
        ...

    async def capture(self, invoice: Invoice, *, captured_by: str, idempotency_key: str) -> ApInvoice:
        """Raises BusinessRuleError `duplicate_invoice` when the supplier's normalised number is taken."""
        ...

    async def approve(
        self, ap_invoice_id: str, amount: Decimal, *, reason: str, approved_by: str, idempotency_key: str
    ) -> ApInvoice:
        """Approve for payment once: approving an approved invoice returns it unchanged."""
        ...

    async def mark_exception(
        self, ap_invoice_id: str, *, kinds: list[str], team: str, summary: str, idempotency_key: str
    ) -> ApInvoice: ...

    async def request_credit_memo(
        self, ap_invoice_id: str, amount: Decimal, *, reason: str, idempotency_key: str
    ) -> ApInvoice: ...

    async def reject(self, ap_invoice_id: str, *, reason: str, idempotency_key: str) -> ApInvoice: ...

    async def list_disputes(self, supplier_id: str) -> list[Dispute]: ...

    async def record_dispute(self, dispute: Dispute, *, idempotency_key: str) -> Dispute:
        """Create or replace the dispute with this id."""
        ...
