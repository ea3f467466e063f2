"""Supplier onboarding: the workflow's input, status and result, and the input/output model of
each activity it calls (workflows import domain only, so the models live here)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import Field, field_validator

from domain.base import DomainModel
from domain.decisions import DecisionRecord, OpenException
from domain.duplicates import ErpCandidate, ScoredCandidate
from domain.events import CrossReference
from domain.exclusions import ExclusionMatch
from domain.supplier import BankAccount, ErpSupplierDraft, SupplierOnboardingRequest, SupplierSite, TaxId
from domain.validation import ValidationIssue


def onboarding_workflow_id(vendor_id: str) -> str:
    return f"supplier-onboarding-{vendor_id}"


class OnboardingStage(StrEnum):
    RECEIVED = "received"
    VALIDATING = "validating"
    SCREENING = "screening"
    MATCHING = "matching"
    AWAITING_REVIEW = "awaiting_review"
    CREATING_IN_ERP = "creating_in_erp"
    LINKING = "linking"
    PUBLISHING = "publishing"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    FAILED = "failed"


class OnboardingOutcome(StrEnum):
    ONBOARDED = "onboarded"  # created in the ERP
    LINKED = "linked"  # already in the ERP (same tax id): linked, no second supplier
    REJECTED = "rejected"  # see RejectionKind; nothing created in the ERP


class RejectionKind(StrEnum):
    VALIDATION = "validation"
    COMPLIANCE_BLOCK = "compliance_block"
    TIN_MISMATCH = "tin_mismatch"
    REVIEW_REJECTED = "review_rejected"


class ReviewAction(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ReviewDecision(DomainModel):
    """The `decide_review` Update's body before every decision went through `resolve_exception`
    (domain.decisions.ExceptionResolution). Kept only so runs recorded with it replay."""

    action: ReviewAction
    reason: str = Field(min_length=3, max_length=500)
    decided_by: str = Field(default="unknown", min_length=1, max_length=120)

    @field_validator("reason")
    @classmethod
    def _reason_has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a reason is required")
        return value.strip()


class OnboardSupplierInput(DomainModel):
    request: SupplierOnboardingRequest
    review_sla: timedelta = timedelta(hours=24)


class ContractLinkStatus(StrEnum):
    LINKED = "linked"
    NOT_FOUND = "not_found"
    SUPPLIER_MISMATCH = "supplier_mismatch"


class ContractLink(DomainModel):
    contract_id: str
    status: ContractLinkStatus


class TinMatch(DomainModel):
    code: int
    description: str
    matched: bool


class OnboardingStatus(DomainModel):
    """What the `status` query answers while the workflow runs."""

    workflow_id: str
    vendor_id: str
    stage: OnboardingStage
    assigned_team: str | None = None
    escalation_level: int = 0
    review_due_at: datetime | None = None
    duplicate_candidates: list[ScoredCandidate] = Field(default_factory=list)
    outcome: OnboardingOutcome | None = None
    open_exception: OpenException | None = Field(default=None, description="the review, as a task of the inbox")


class OnboardingResult(DomainModel):
    workflow_id: str
    vendor_id: str
    outcome: OnboardingOutcome
    rejection_kind: RejectionKind | None = None
    reasons: list[ValidationIssue] = Field(default_factory=list)
    erp_supplier_id: str | None = None
    site_ids: list[str] = Field(default_factory=list)
    bank_account_id: str | None = None
    exclusion_matches: list[ExclusionMatch] = Field(default_factory=list)
    tin_match: TinMatch | None = None
    duplicate_candidates: list[ScoredCandidate] = Field(default_factory=list)
    review: DecisionRecord | None = Field(default=None, description="the duplicate review, when there was one")
    escalation_level: int = 0
    contract_links: list[ContractLink] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


# --- activity inputs and outputs -------------------------------------------------------------


class ExclusionScreeningInput(DomainModel):
    legal_name: str
    dba_name: str | None = None
    npi: str | None = None


class ExclusionScreeningResult(DomainModel):
    matches: list[ExclusionMatch]
    records_checked: int


class TinMatchInput(DomainModel):
    tax_id: TaxId
    legal_name: str


class ErpMatchInput(DomainModel):
    tax_id: TaxId
    legal_name: str


class ErpMatchResult(DomainModel):
    candidates: list[ErpCandidate]


class CreateErpSupplierInput(DomainModel):
    draft: ErpSupplierDraft
    sites: list[SupplierSite]
    bank_account: BankAccount
    idempotency_prefix: str


class CreateErpSupplierResult(DomainModel):
    erp_supplier_id: str
    site_ids: list[str]
    bank_account_id: str


class LinkExistingSupplierInput(DomainModel):
    erp_supplier_id: str
    request: SupplierOnboardingRequest
    idempotency_key: str


class LinkExistingSupplierResult(DomainModel):
    erp_supplier_id: str
    erp_status: str
    updated_fields: list[str]
    warnings: list[str]


class LinkContractsInput(DomainModel):
    erp_supplier_id: str
    contract_refs: list[str]
    idempotency_prefix: str


class LinkContractsResult(DomainModel):
    links: list[ContractLink]


class RecordCrossReferenceInput(DomainModel):
    reference: CrossReference


class RemoveCrossReferenceInput(DomainModel):
    reference: CrossReference


class CrossReferenceResult(DomainModel):
    changed: bool


class DeactivateErpSupplierInput(DomainModel):
    """`erp_supplier_id` is None when the create failed before answering; the supplier is then
    found by the vendor id the create recorded in its external ids (if it was created at all)."""

    erp_supplier_id: str | None
    vendor_id: str
    reason: str
    idempotency_key: str


class ErpSupplierState(DomainModel):
    erp_supplier_id: str
    status: str
    hold_reason: str | None = None
