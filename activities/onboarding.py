"""Onboarding activities: thin calls to the ERP, screening, contracts and vendor systems and to
our store. Every call that changes an external system carries an idempotency key derived from
the workflow id, so a retried activity never creates a second supplier."""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.errors import translate_adapter_errors
from adapters.contracts import ContractsPort
from adapters.erp import ErpPort
from adapters.errors import BusinessRuleError, NotFoundError
from adapters.screening import ScreeningPort
from adapters.store import StorePort
from adapters.vendor_management import VendorManagementPort
from domain.duplicates import ErpCandidate
from domain.exclusions import find_exclusion_matches
from domain.names import normalise_name
from domain.onboarding import (
    ContractLink,
    ContractLinkStatus,
    CreateErpSupplierInput,
    CreateErpSupplierResult,
    CrossReferenceResult,
    DeactivateErpSupplierInput,
    ErpMatchInput,
    ErpMatchResult,
    ErpSupplierState,
    ExclusionScreeningInput,
    ExclusionScreeningResult,
    LinkContractsInput,
    LinkContractsResult,
    LinkExistingSupplierInput,
    LinkExistingSupplierResult,
    RecordCrossReferenceInput,
    RemoveCrossReferenceInput,
    TinMatch,
    TinMatchInput,
)
from domain.supplier import update_for_existing

NAME_SEARCH_TOKENS = 2
_MIN_TOKEN = 4


def name_search_terms(legal_name: str) -> list[str]:
    """The distinctive words of a name, for a substring search in the ERP (the full similarity
    scoring happens afterwards in domain.duplicates)."""
    words = [w for w in normalise_name(legal_name).split() if len(w) >= _MIN_TOKEN and w != "the"]
    return sorted(set(words), key=lambda w: (-len(w), w))[:NAME_SEARCH_TOKENS] or words[:1]


class OnboardingActivities:
    def __init__(
        self,
        *,
        erp: ErpPort,
        screening: ScreeningPort,
        contracts: ContractsPort,
        vendor_management: VendorManagementPort,
        store: StorePort,
    ) -> None:
        self._erp = erp
        self._screening = screening
        self._contracts = contracts
        self._vendor_management = vendor_management
        self._store = store

    @activity.defn(name="screen_against_exclusions")
    @translate_adapter_errors
    async def screen_against_exclusions(self, params: ExclusionScreeningInput) -> ExclusionScreeningResult:
        records = await self._screening.list_exclusions()
        matches = find_exclusion_matches(params.legal_name, params.dba_name, params.npi, records)
        return ExclusionScreeningResult(matches=matches, records_checked=len(records))

    @activity.defn(name="match_tin")
    @translate_adapter_errors
    async def match_tin(self, params: TinMatchInput) -> TinMatch:
        answer = await self._screening.match_tin(params.tax_id.digits(), params.tax_id.kind, params.legal_name)
        return TinMatch(code=answer.code, description=answer.description, matched=answer.matched)

    @activity.defn(name="find_erp_matches")
    @translate_adapter_errors
    async def find_erp_matches(self, params: ErpMatchInput) -> ErpMatchResult:
        tax_digits = params.tax_id.digits()
        found: dict[str, ErpCandidate] = {}
        async for supplier in self._erp.list_suppliers(tax_id=params.tax_id.value.reveal()):
            found[supplier.erp_supplier_id] = ErpCandidate(
                erp_supplier_id=supplier.erp_supplier_id,
                legal_name=supplier.legal_name,
                status=supplier.status.value,
                tax_id_matches=True,
            )
        for term in name_search_terms(params.legal_name):
            async for supplier in self._erp.list_suppliers(name=term):
                if supplier.erp_supplier_id in found:
                    continue
                same_tax = supplier.tax_id is not None and supplier.tax_id.digits() == tax_digits
                found[supplier.erp_supplier_id] = ErpCandidate(
                    erp_supplier_id=supplier.erp_supplier_id,
                    legal_name=supplier.legal_name,
                    status=supplier.status.value,
                    tax_id_matches=same_tax,
                )
        return ErpMatchResult(candidates=list(found.values()))

    @activity.defn(name="create_supplier_in_erp")
    @translate_adapter_errors
    async def create_supplier_in_erp(self, params: CreateErpSupplierInput) -> CreateErpSupplierResult:
        # Three idempotent calls: a retry after a partial failure continues where it stopped.
        prefix = params.idempotency_prefix
        supplier = await self._erp.create_supplier(params.draft, idempotency_key=f"{prefix}:create-supplier")
        erp_id = supplier.erp_supplier_id
        site_ids = [
            await self._erp.add_site(erp_id, site, idempotency_key=f"{prefix}:site:{site.purpose.value}")
            for site in params.sites
        ]
        bank_account_id = await self._erp.add_bank_account(
            erp_id, params.bank_account, idempotency_key=f"{prefix}:bank-account"
        )
        return CreateErpSupplierResult(erp_supplier_id=erp_id, site_ids=site_ids, bank_account_id=bank_account_id)

    @activity.defn(name="link_existing_supplier")
    @translate_adapter_errors
    async def link_existing_supplier(self, params: LinkExistingSupplierInput) -> LinkExistingSupplierResult:
        existing = await self._erp.get_supplier(params.erp_supplier_id)
        update = update_for_existing(params.request, existing)
        changed = [name for name, value in update.model_dump().items() if value is not None]
        updated = await self._erp.update_supplier(
            params.erp_supplier_id, update, idempotency_key=params.idempotency_key
        )
        warnings = []
        if updated.status.value != "active":
            warnings.append(f"the ERP supplier is {updated.status.value}; it was linked, not reactivated")
        if updated.payment_terms and updated.payment_terms != params.request.payment_terms:
            warnings.append(
                f"payment terms differ (ERP {updated.payment_terms}, request {params.request.payment_terms}); "
                "the ERP's terms were kept"
            )
        return LinkExistingSupplierResult(
            erp_supplier_id=updated.erp_supplier_id,
            erp_status=updated.status.value,
            updated_fields=changed,
            warnings=warnings,
        )

    @activity.defn(name="link_contract_references")
    @translate_adapter_errors
    async def link_contract_references(self, params: LinkContractsInput) -> LinkContractsResult:
        links = []
        for contract_id in params.contract_refs:
            try:
                await self._contracts.link_supplier(
                    contract_id,
                    params.erp_supplier_id,
                    idempotency_key=f"{params.idempotency_prefix}:{contract_id}",
                )
                status = ContractLinkStatus.LINKED
            except NotFoundError:
                status = ContractLinkStatus.NOT_FOUND
            except BusinessRuleError as error:
                if error.code != "supplier_mismatch":
                    raise
                status = ContractLinkStatus.SUPPLIER_MISMATCH
            links.append(ContractLink(contract_id=contract_id, status=status))
        return LinkContractsResult(links=links)

    @activity.defn(name="record_cross_reference")
    @translate_adapter_errors
    async def record_cross_reference(self, params: RecordCrossReferenceInput) -> CrossReferenceResult:
        ref = params.reference
        await asyncio.to_thread(self._store.record_cross_reference, ref)
        if ref.source_system == "vendor_management":
            await self._vendor_management.link_erp_supplier(ref.source_id, ref.target_id)
        return CrossReferenceResult(changed=True)

    @activity.defn(name="remove_cross_reference")
    async def remove_cross_reference(self, params: RemoveCrossReferenceInput) -> CrossReferenceResult:
        ref = params.reference
        removed = await asyncio.to_thread(
            self._store.remove_cross_reference,
            ref.entity,
            ref.source_system,
            ref.source_id,
            ref.target_system,
        )
        return CrossReferenceResult(changed=removed)

    @activity.defn(name="deactivate_erp_supplier")
    @translate_adapter_errors
    async def deactivate_erp_supplier(self, params: DeactivateErpSupplierInput) -> ErpSupplierState:
        erp_id = params.erp_supplier_id
        if erp_id is None:
            erp_id = await self._find_by_vendor_id(params.vendor_id)
            if erp_id is None:
                return ErpSupplierState(erp_supplier_id="", status="not_created")
        supplier = await self._erp.deactivate_supplier(erp_id, params.reason, idempotency_key=params.idempotency_key)
        return ErpSupplierState(erp_supplier_id=supplier.erp_supplier_id, status=supplier.status.value)

    async def _find_by_vendor_id(self, vendor_id: str) -> str | None:
        async for supplier in self._erp.list_suppliers(external_id=vendor_id):
            return supplier.erp_supplier_id
        return None
