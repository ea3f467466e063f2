"""Hand-written fakes of the ports: in-memory systems that record what they were asked.

Each fake subclasses its port, so the type checker reports a fake that drifts from it."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from adapters.contracts import ContractsPort
from adapters.erp import ErpPort
from adapters.errors import BusinessRuleError, NotFoundError, TransientError
from adapters.screening import ScreeningPort, TinMatchResult
from adapters.store import StorePort
from adapters.vendor_management import VendorManagementPort
from domain.audit import AuditRecord
from domain.events import BusinessEvent, CrossReference
from domain.exclusions import ExclusionRecord
from domain.reference import Contract, Item, Location, PriceTier
from domain.supplier import (
    BankAccount,
    ErpSupplier,
    ErpSupplierDraft,
    ErpSupplierStatus,
    ErpSupplierUpdate,
    SupplierSite,
    TaxId,
    TaxIdKind,
    VendorRegistration,
)


@dataclass
class FakeErp(ErpPort):
    suppliers: dict[str, ErpSupplier] = field(default_factory=dict)
    sites: dict[str, list[SupplierSite]] = field(default_factory=dict)
    bank_accounts: dict[str, list[BankAccount]] = field(default_factory=dict)
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    replies: dict[str, object] = field(default_factory=dict)
    fail_next: list[Exception] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(7))

    def seed(self, erp_id: str, legal_name: str, ein: str, status: str = "active") -> ErpSupplier:
        supplier = ErpSupplier(
            erp_supplier_id=erp_id,
            legal_name=legal_name,
            tax_id=TaxId(kind="EIN", value=ein),
            status=ErpSupplierStatus(status),
            payment_terms="NET30",
        )
        self.suppliers[erp_id] = supplier
        return supplier

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    def _replay(self, key: str, name: str) -> object | None:
        self.calls.append((name, key))
        return self.replies.get(key)

    async def list_suppliers(
        self,
        *,
        tax_id: str | None = None,
        name: str | None = None,
        status: str | None = None,
        external_id: str | None = None,
    ) -> AsyncIterator[ErpSupplier]:
        self.calls.append(("list_suppliers", None))
        self._maybe_fail()
        digits = "".join(c for c in tax_id or "" if c.isdigit())
        for supplier in list(self.suppliers.values()):
            if digits and (supplier.tax_id is None or supplier.tax_id.digits() != digits):
                continue
            if name and name.lower() not in supplier.legal_name.lower():
                continue
            if external_id and external_id not in supplier.external_ids.values():
                continue
            yield supplier

    async def get_supplier(self, erp_supplier_id: str) -> ErpSupplier:
        if erp_supplier_id not in self.suppliers:
            raise NotFoundError("erp", f"supplier {erp_supplier_id} not found")
        return self.suppliers[erp_supplier_id]

    async def create_supplier(self, draft: ErpSupplierDraft, *, idempotency_key: str) -> ErpSupplier:
        if (done := self._replay(idempotency_key, "create_supplier")) is not None:
            return done  # type: ignore[return-value]
        self._maybe_fail()
        if any(s.tax_id and s.tax_id.digits() == draft.tax_id.digits() for s in self.suppliers.values()):
            raise BusinessRuleError("erp", "duplicate_tax_id", "a supplier with this tax id exists", status=409)
        erp_id = f"SUP-{next(self._ids):04d}"
        supplier = ErpSupplier(
            erp_supplier_id=erp_id,
            legal_name=draft.legal_name,
            tax_id=draft.tax_id,
            payment_terms=draft.payment_terms,
            categories=draft.categories,
            external_ids=draft.external_ids,
        )
        self.suppliers[erp_id] = supplier
        self.replies[idempotency_key] = supplier
        return supplier

    async def update_supplier(
        self, erp_supplier_id: str, changes: ErpSupplierUpdate, *, idempotency_key: str
    ) -> ErpSupplier:
        self.calls.append(("update_supplier", idempotency_key))
        supplier = await self.get_supplier(erp_supplier_id)
        data = {k: v for k, v in changes.model_dump().items() if v is not None}
        updated = supplier.model_copy(update=data)
        self.suppliers[erp_supplier_id] = updated
        return updated

    async def add_site(self, erp_supplier_id: str, site: SupplierSite, *, idempotency_key: str) -> str:
        if (done := self._replay(idempotency_key, "add_site")) is not None:
            return done  # type: ignore[return-value]
        self._maybe_fail()
        self.sites.setdefault(erp_supplier_id, []).append(site)
        site_id = f"SITE-{erp_supplier_id}-{len(self.sites[erp_supplier_id])}"
        self.replies[idempotency_key] = site_id
        return site_id

    async def add_bank_account(self, erp_supplier_id: str, account: BankAccount, *, idempotency_key: str) -> str:
        if (done := self._replay(idempotency_key, "add_bank_account")) is not None:
            return done  # type: ignore[return-value]
        self._maybe_fail()
        self.bank_accounts.setdefault(erp_supplier_id, []).append(account)
        account_id = f"BA-{erp_supplier_id}"
        self.replies[idempotency_key] = account_id
        return account_id

    async def _set_status(self, erp_id: str, status: str, hold_reason: str | None, call: str, key: str) -> ErpSupplier:
        self.calls.append((call, key))
        self._maybe_fail()
        supplier = await self.get_supplier(erp_id)
        updated = supplier.model_copy(update={"status": ErpSupplierStatus(status), "hold_reason": hold_reason})
        self.suppliers[erp_id] = updated
        return updated

    async def place_hold(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier:
        return await self._set_status(erp_supplier_id, "on_hold", reason, "place_hold", idempotency_key)

    async def release_hold(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier:
        return await self._set_status(erp_supplier_id, "active", None, "release_hold", idempotency_key)

    async def deactivate_supplier(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier:
        return await self._set_status(erp_supplier_id, "inactive", None, "deactivate_supplier", idempotency_key)


@dataclass
class FakeScreening(ScreeningPort):
    exclusions: list[ExclusionRecord] = field(default_factory=list)
    tin_codes: dict[str, int] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def list_exclusions(self) -> list[ExclusionRecord]:
        self.asked.append("list_exclusions")
        return list(self.exclusions)

    async def match_tin(self, tin: str, tin_kind: TaxIdKind, name: str) -> TinMatchResult:
        self.asked.append("match_tin")
        code = self.tin_codes.get(tin, 0)
        return TinMatchResult(code=code, description="TIN and name match" if code == 0 else f"code {code}")


SEED = Path(__file__).resolve().parents[2] / "sandbox" / "seed"


def seed_items() -> dict[str, Item]:
    return {i["item_id"]: Item.model_validate(i) for i in json.loads((SEED / "items.json").read_text())}


def seed_locations() -> list[Location]:
    return [Location.model_validate(loc) for loc in json.loads((SEED / "locations.json").read_text())]


def seed_contracts() -> dict[str, Contract]:
    return {c["contract_id"]: Contract.model_validate(c) for c in json.loads((SEED / "contracts.json").read_text())}


@dataclass
class FakeContracts(ContractsPort):
    contracts: dict[str, Contract] = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)
    fail_link: Exception | None = None
    items: dict[str, Item] = field(default_factory=seed_items)
    locations: list[Location] = field(default_factory=seed_locations)

    async def list_items(self) -> list[Item]:
        return list(self.items.values())

    async def contracts_pricing(self, item_id: str) -> list[Contract]:
        return [c for c in self.contracts.values() if any(p.item_id == item_id for p in c.prices)]

    async def list_locations(self) -> list[Location]:
        return list(self.locations)

    def seed(self, contract_id: str, supplier_id: str | None) -> None:
        self.contracts[contract_id] = Contract(
            contract_id=contract_id,
            supplier_id=supplier_id,
            effective_from="2026-01-01",
            effective_to="2027-12-31",
            status="active",
            prices=[PriceTier(item_id="ITM-1", uom="CS", unit_price=Decimal("1.00"))],
        )

    async def get_contract(self, contract_id: str) -> Contract:
        if contract_id not in self.contracts:
            raise NotFoundError("contracts", f"contract {contract_id} not found")
        return self.contracts[contract_id]

    async def link_supplier(self, contract_id: str, erp_supplier_id: str, *, idempotency_key: str) -> Contract:
        if self.fail_link is not None:
            raise self.fail_link
        contract = await self.get_contract(contract_id)
        if contract.supplier_id and contract.supplier_id != erp_supplier_id:
            raise BusinessRuleError("contracts", "supplier_mismatch", "contract belongs to another supplier")
        self.links.append((contract_id, erp_supplier_id))
        contract.supplier_id = erp_supplier_id
        return contract


@dataclass
class FakeVendorManagement(VendorManagementPort):
    links: dict[str, str] = field(default_factory=dict)
    registrations: dict[str, VendorRegistration] = field(default_factory=dict)
    status_changes: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    async def find_registration(self, erp_supplier_id: str) -> VendorRegistration | None:
        return self.registrations.get(erp_supplier_id)

    async def link_erp_supplier(self, vendor_id: str, erp_supplier_id: str) -> None:
        self.links[vendor_id] = erp_supplier_id

    async def list_registrations(self, status: str | None = None) -> AsyncIterator[VendorRegistration]:
        for registration in list(self.registrations.values()):
            if status is None or registration.status == status:
                yield registration

    async def change_status(self, vendor_id: str, status: str, reason: str, idempotency_key: str) -> None:
        if idempotency_key in self.status_changes:
            return
        self.status_changes[idempotency_key] = (vendor_id, status, reason)
        for key, registration in self.registrations.items():
            if registration.vendor_id == vendor_id:
                self.registrations[key] = registration.model_copy(update={"status": status})


@dataclass
class FakeStore(StorePort):
    references: dict[tuple[str, str, str, str], CrossReference] = field(default_factory=dict)
    events: dict[str, BusinessEvent] = field(default_factory=dict)
    fail_record: Exception | None = None

    def record_cross_reference(self, ref: CrossReference) -> CrossReference:
        if self.fail_record is not None:
            raise self.fail_record
        self.references[(ref.entity, ref.source_system, ref.source_id, ref.target_system)] = ref
        return ref

    def find_cross_reference(
        self, entity: str, source_system: str, source_id: str, target_system: str
    ) -> CrossReference | None:
        return self.references.get((entity, source_system, source_id, target_system))

    def remove_cross_reference(self, entity: str, source_system: str, source_id: str, target_system: str) -> bool:
        return self.references.pop((entity, source_system, source_id, target_system), None) is not None

    def append_event(self, event: BusinessEvent, *, audit: AuditRecord | None = None) -> bool:
        if event.event_id in self.events:
            return False
        self.events[event.event_id] = event
        return True

    def event_types(self) -> list[str]:
        return [e.type for e in self.events.values()]


# The seed's active LEIE exclusion that examples/suppliers/excluded-on-leie.json matches.
APEX = ExclusionRecord(
    busname="APEX DURABLE MEDICAL EQUIPMENT INC",
    excltype="1128a1",
    excldate="20210805",
    reindate="00000000",
    state="TX",
    npi="1619933804",
)


def transient(system: str = "erp") -> TransientError:
    return TransientError(system, "injected outage", status=503)
