"""Scheduled compliance activities: rescreen every active supplier against the exclusion list the
screening system serves now, review credential expiry dates, and change a supplier's status in
the vendor-management system (which then sends its status webhook: the status sync holds the
supplier and its open POs in the ERP, exactly as for a suspension made there)."""

from __future__ import annotations

from temporalio import activity

from activities.errors import translate_adapter_errors
from adapters.screening import ScreeningPort
from adapters.vendor_management import VendorManagementPort
from domain.compliance import (
    ComplianceInput,
    CredentialNotice,
    CredentialReviewInput,
    ExclusionIndex,
    NewlyExcluded,
    RescreenResult,
    StatusChangeInput,
    credential_notices,
)

ACTIVE = "active"
HEARTBEAT_EVERY = 200


class ComplianceActivities:
    def __init__(self, *, vendor_management: VendorManagementPort, screening: ScreeningPort) -> None:
        self._vendor_management = vendor_management
        self._screening = screening

    @activity.defn(name="rescreen_active_suppliers")
    @translate_adapter_errors
    async def rescreen(self, _params: ComplianceInput) -> RescreenResult:
        records = await self._screening.list_exclusions()
        index = ExclusionIndex(records)
        screened, excluded = 0, []
        async for registration in self._vendor_management.list_registrations(status=ACTIVE):
            screened += 1
            if screened % HEARTBEAT_EVERY == 0:
                activity.heartbeat(f"screened {screened}")
            found = index.matches(registration.legal_name or "", registration.dba_name, registration.npi)
            if found:
                excluded.append(NewlyExcluded(vendor_id=registration.vendor_id, legal_name=registration.legal_name
                                              or registration.vendor_id, erp_supplier_id=registration.erp_supplier_id,
                                              matches=found))  # fmt: skip
        return RescreenResult(screened=screened, exclusion_records=len(records), excluded=excluded)

    @activity.defn(name="review_credentials")
    @translate_adapter_errors
    async def review_credentials(self, params: CredentialReviewInput) -> list[CredentialNotice]:
        notices: list[CredentialNotice] = []
        async for registration in self._vendor_management.list_registrations(status=ACTIVE):
            notices += credential_notices(registration, params.today)
        return notices

    @activity.defn(name="change_vendor_status")
    @translate_adapter_errors
    async def change_status(self, params: StatusChangeInput) -> None:
        await self._vendor_management.change_status(params.vendor_id, params.status, params.reason,
                                                    params.idempotency_key)  # fmt: skip
