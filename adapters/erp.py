"""ERP supplier master port (modelled on a cloud ERP's supplier REST resources)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from domain.supplier import BankAccount, ErpSupplier, ErpSupplierDraft, ErpSupplierUpdate, SupplierSite


class ErpPort(Protocol):
    def list_suppliers(
        self,
        *,
        tax_id: str | None = None,
        name: str | None = None,
        status: str | None = None,
        external_id: str | None = None,
    ) -> AsyncIterator[ErpSupplier]:
        """Every matching supplier, paging through the ERP (at most 500 a page)."""
        ...

    async def get_supplier(self, erp_supplier_id: str) -> ErpSupplier: ...

    async def create_supplier(self, draft: ErpSupplierDraft, *, idempotency_key: str) -> ErpSupplier: ...

    async def update_supplier(
        self, erp_supplier_id: str, changes: ErpSupplierUpdate, *, idempotency_key: str
    ) -> ErpSupplier: ...

    async def add_site(self, erp_supplier_id: str, site: SupplierSite, *, idempotency_key: str) -> str:
        """Returns the ERP site id."""
        ...

    async def add_bank_account(self, erp_supplier_id: str, account: BankAccount, *, idempotency_key: str) -> str:
        """Returns the ERP bank account id."""
        ...

    async def place_hold(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier: ...

    async def release_hold(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier: ...

    async def deactivate_supplier(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier: ...
