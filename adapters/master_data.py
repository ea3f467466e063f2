"""`MasterDataPort`: one system's master records, read as canonical fields and written back.

Canonical supplier fields (the names of domain/master_data/survivorship.v1.json): legal_name,
dba_name, tax_id (digits), status (active | hold | inactive: a suspension or expired credential in
vendor management is a hold in the ERP), credentials, diversity, address, payment_terms,
bank_account (a fingerprint of the last four digits of routing and account number: no system
answers the full numbers), erp_supplier_id, contract_ids, unspsc_categories. Item fields:
description, gtin, base_unit, unspsc. An adapter maps its system's shape to these and back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from domain.master_data.matching import SystemRecord
from domain.master_data.policy import Entity, MasterSystem


class MasterDataPort(Protocol):
    system: MasterSystem

    def holds(self, entity: Entity) -> bool:
        """Whether the system keeps records of `entity` at all."""
        ...

    def can_write(self, entity: Entity, field: str) -> bool:
        """Whether `write` can change this canonical field here (`*`: create the whole record)."""
        ...

    def read(self, entity: Entity) -> AsyncIterator[SystemRecord]:
        """Every record of `entity` the system holds (paged inside), in canonical fields."""
        ...

    async def write(
        self, entity: Entity, record_key: str, local_id: str | None, changes: dict[str, Any], idempotency_key: str
    ) -> None:
        """Apply `changes` (canonical field -> surviving value) to the record `local_id`; without a
        local id the record is created under `record_key` (the whole golden record is in `changes`).
        Raises `AdapterError` naming the reason when the system refuses."""
        ...
