"""Contract management port."""

from __future__ import annotations

from typing import Protocol

from domain.reference import Contract, Item, Location


class ContractsPort(Protocol):
    async def get_contract(self, contract_id: str) -> Contract: ...

    async def contracts_pricing(self, item_id: str) -> list[Contract]:
        """Every contract (in force or not) with a price for the item."""
        ...

    async def list_items(self) -> list[Item]:
        """The item master (units of measure and their factors)."""
        ...

    async def list_locations(self) -> list[Location]: ...

    async def link_supplier(self, contract_id: str, erp_supplier_id: str, *, idempotency_key: str) -> Contract:
        """Record the ERP supplier on the contract. Raises BusinessRuleError code
        `supplier_mismatch` when the contract already belongs to another supplier, and
        NotFoundError when the contract does not exist."""
        ...
