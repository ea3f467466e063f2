"""Canonical supplier model: what the vendor credentialing system sends us to onboard,
and what the ERP supplier master holds."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import EmailStr, Field, ModelWrapValidatorHandler, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from domain.base import DomainModel, IsoDate, LenientModel
from domain.purchasing import BUSINESS_ID_PATTERN, BUSINESS_ID_RULE
from domain.sensitive import Sensitive


class TaxIdKind(StrEnum):
    EIN = "EIN"
    SSN = "SSN"


class TaxId(DomainModel):
    kind: TaxIdKind
    value: Sensitive

    def digits(self) -> str:
        return "".join(ch for ch in self.value.reveal() if ch.isdigit())


class Address(DomainModel):
    line1: str = Field(min_length=1, max_length=240)
    line2: str | None = None
    city: str = Field(min_length=1, max_length=60)
    state: str = Field(min_length=2, max_length=3)
    postal_code: str = Field(min_length=3, max_length=10)
    country: str = Field(default="US", min_length=2, max_length=2)


class AccountType(StrEnum):
    CHECKING = "checking"
    SAVINGS = "savings"


class BankAccount(DomainModel):
    routing_number: Sensitive
    account_number: Sensitive
    account_type: AccountType = AccountType.CHECKING
    holder_name: str = Field(min_length=1, max_length=240)


class Identifiers(DomainModel):
    """Optional industry identifiers: DUNS, GS1 GLN, HIBCC HIN, CMS NPI."""

    duns: str | None = None
    gln: str | None = None
    hin: str | None = None
    npi: str | None = None


class Contact(DomainModel):
    name: str = Field(min_length=1, max_length=120)
    email: EmailStr | None = None
    phone: str | None = None
    role: str = Field(default="general", max_length=60)


class CredentialDocument(DomainModel):
    kind: str = Field(min_length=1, max_length=60)
    received_on: IsoDate | None = None
    expires_on: IsoDate | None = None


class VendorStatus(StrEnum):
    """A supplier's standing in the vendor-management (credentialing) system, as its status
    webhook reports it and as its supplier record shows it."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    CREDENTIAL_EXPIRED = "credential_expired"
    REINSTATED = "reinstated"
    DENIED = "denied"


# The one list of vendor statuses that stop purchasing: the status sync puts the ERP supplier and
# its open POs on hold, and a new PO to the supplier is refused.
BLOCKS_PURCHASING: frozenset[VendorStatus] = frozenset(
    {VendorStatus.SUSPENDED, VendorStatus.CREDENTIAL_EXPIRED, VendorStatus.DENIED}
)


class CredentialingStatus(StrEnum):
    APPROVED = "approved"
    PENDING = "pending"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    DENIED = "denied"


class Credentialing(DomainModel):
    status: CredentialingStatus
    documents: list[CredentialDocument] = Field(default_factory=list)


class SourceRef(DomainModel):
    system: str = Field(min_length=1, max_length=60)
    id: str = Field(min_length=1, max_length=40, pattern=BUSINESS_ID_PATTERN, description=BUSINESS_ID_RULE)


class SupplierOnboardingRequest(DomainModel):
    """A supplier registration as the vendor credentialing system sends it.

    The structure is checked on parse; the business rules (check digits, credentialing,
    expiries) are checked by `domain.validation.validate_onboarding_request`, so that a
    request can be taken in, rejected with every reason at once, and the rejection audited.
    """

    source: SourceRef
    legal_name: str = Field(min_length=1, max_length=240)
    dba_name: str | None = Field(default=None, max_length=240)
    tax_id: TaxId
    identifiers: Identifiers = Field(default_factory=Identifiers)
    remit_to: Address
    order_from: Address | None = None
    bank_account: BankAccount
    payment_terms: str = Field(min_length=1, max_length=30)
    categories: list[str] = Field(default_factory=list)
    diversity: list[str] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    contract_refs: list[str] = Field(default_factory=list)
    credentialing: Credentialing

    @field_validator("legal_name", "dba_name", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        """Stripped before the length rules apply, so a name of spaces is refused as empty."""
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem_at_once(cls, data: Any, handler: ModelWrapValidatorHandler[SupplierOnboardingRequest]) -> Any:
        """A request that does not parse is also checked against the business rules wherever its
        parts do, so the sender learns every problem in one answer (CLI and API alike)."""
        try:
            return handler(data)
        except ValidationError as error:
            from domain.validation import business_issues_in_document, issue_location  # it imports this module

            found = business_issues_in_document(data, datetime.now(UTC).date())
            if not found:
                raise
            problems = [(e["type"], e["loc"], e["msg"]) for e in error.errors()]
            problems += [("business_rule", issue_location(i.field), i.reason) for i in found]
            details = [
                InitErrorDetails(type=PydanticCustomError(kind, "{reason}", {"reason": msg}), loc=loc, input=None)
                for kind, loc, msg in problems
            ]
            raise ValidationError.from_exception_data(error.title, details, hide_input=True) from None


class ErpSupplierStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ON_HOLD = "on_hold"


class ErpSupplier(LenientModel):
    """A supplier as the ERP supplier master returns it."""

    erp_supplier_id: str
    legal_name: str
    tax_id: TaxId | None = None
    status: ErpSupplierStatus = ErpSupplierStatus.ACTIVE
    hold_reason: str | None = None
    payment_terms: str | None = None
    identifiers: dict[str, str | None] = Field(default_factory=dict)
    categories: list[str] = Field(default_factory=list)
    external_ids: dict[str, str] = Field(default_factory=dict)


class SitePurpose(StrEnum):
    REMIT_TO = "remit_to"
    ORDER_FROM = "order_from"


class SupplierSite(DomainModel):
    purpose: SitePurpose
    address: Address


class ErpSupplierDraft(DomainModel):
    """What the ERP needs to create a supplier header (sites and bank accounts follow)."""

    legal_name: str
    dba_name: str | None = None
    tax_id: TaxId
    payment_terms: str
    identifiers: Identifiers = Field(default_factory=Identifiers)
    categories: list[str] = Field(default_factory=list)
    diversity: list[str] = Field(default_factory=list)
    external_ids: dict[str, str] = Field(default_factory=dict)


class ErpSupplierUpdate(DomainModel):
    """Fields the vendor credentialing system is authoritative for (survivorship): the ERP keeps
    its own payment terms, remit-to and bank account; a different bank account is never applied
    automatically (bank-change fraud), it is reported for verification instead."""

    categories: list[str] | None = None
    diversity: list[str] | None = None
    identifiers: dict[str, str] | None = None
    external_ids: dict[str, str] | None = None


def erp_draft_from_request(request: SupplierOnboardingRequest) -> ErpSupplierDraft:
    return ErpSupplierDraft(
        legal_name=request.legal_name,
        dba_name=request.dba_name,
        tax_id=request.tax_id,
        payment_terms=request.payment_terms,
        identifiers=request.identifiers,
        categories=list(request.categories),
        diversity=list(request.diversity),
        external_ids={request.source.system: request.source.id},
    )


def sites_from_request(request: SupplierOnboardingRequest) -> list[SupplierSite]:
    sites = [SupplierSite(purpose=SitePurpose.REMIT_TO, address=request.remit_to)]
    if request.order_from is not None:
        sites.append(SupplierSite(purpose=SitePurpose.ORDER_FROM, address=request.order_from))
    return sites


def update_for_existing(request: SupplierOnboardingRequest, existing: ErpSupplier) -> ErpSupplierUpdate:
    """Survivorship for a supplier the ERP already holds: categories and diversity are merged,
    identifiers the ERP lacks are filled in, the vendor-management id is cross-referenced."""
    categories = sorted(set(existing.categories) | set(request.categories))
    identifiers = {k: v for k, v in request.identifiers.model_dump().items() if v and not existing.identifiers.get(k)}
    return ErpSupplierUpdate(
        categories=categories if categories != sorted(existing.categories) else None,
        diversity=list(request.diversity) or None,
        identifiers=identifiers or None,
        external_ids={**existing.external_ids, request.source.system: request.source.id},
    )


class VendorRegistration(LenientModel):
    """A supplier's registration in vendor management, with its credential documents."""

    vendor_id: str
    legal_name: str | None = None
    dba_name: str | None = None
    identifiers: dict[str, str | None] | None = None
    status: str
    erp_supplier_id: str | None = None
    documents: list[CredentialDocument] = Field(default_factory=list)

    @property
    def npi(self) -> str | None:
        return (self.identifiers or {}).get("npi")
