"""The `data` of the business events about suppliers, compliance, master data and subscriptions,
as a receiver gets it (the orders' events are in domain/event_catalog_orders.py; the catalog
that names them is domain/event_catalog.py).

Decisions:
- Every model allows extra fields: a field a later version adds never makes an older schema
  reject the event. A field is required when the publishing code always puts it in (even when its
  value may be null); the models follow the dicts and domain models the workflows publish.
- Values are typed as they travel: `model_dump(mode="json")`, so a decimal is a string
  (`DecimalText`), a datetime or date an ISO string; enum values are listed (a new value is a
  schema change, which the generated files in schemas/events/ show in review).
- Sensitive values are masked before an event leaves (domain.audit.mask_sensitive): every value
  under a key such as `tax_id` or `bank_account` becomes a string `•••` + its last 4 characters
  (`Masked`). A field that can carry such a key accepts the string: a drift count of the
  `bank_account` field is masked like the field's values would be.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from domain.alert_facts import AlertKind
from domain.alerts import Severity
from domain.compliance import ComplianceOutcome, CredentialBand
from domain.decisions import ExceptionAction
from domain.master_data.policy import Entity, MasterSystem
from domain.master_data.survivorship import ConflictKind
from domain.master_data.sync import ConflictOutcome
from domain.onboarding import OnboardingOutcome, RejectionKind
from domain.status_sync import ErpAction
from domain.supplier import VendorStatus

Masked = Annotated[
    str, Field(pattern="^•••", description="a masked sensitive value: ••• and its last 4 characters (or ••••)")
]
DecimalText = Annotated[
    str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$", description="a decimal as a string, e.g. 31.50")
]
ApproveOrReject = Literal[ExceptionAction.APPROVE, ExceptionAction.REJECT]
DriftCounts = Annotated[
    dict[str, dict[str, int | Masked]],
    Field(description="system -> field -> records that differed; a sensitive field's count is masked"),
]


class EventData(BaseModel):
    """The base of every event's data: unknown (newer) fields are allowed."""

    model_config = ConfigDict(extra="allow")


# --- supplier onboarding (workflows/onboarding.py, onboarding_review*.py) -----------------------


class SupplierOnboarded(EventData):
    vendor_id: str = Field(description="the supplier's id in vendor management (also the subject)")
    erp_supplier_id: str = Field(description="the supplier in the ERP, created or linked")
    outcome: Literal[OnboardingOutcome.ONBOARDED, OnboardingOutcome.LINKED] = Field(
        description="onboarded: created in the ERP; linked: already there (same tax id)"
    )


class OnboardingRejected(EventData):
    vendor_id: str
    kind: RejectionKind
    fields: list[str] = Field(description="the fields the reasons name (never their values)")


class ReviewRequested(EventData):
    vendor_id: str
    team: str = Field(description="the team asked to review the possible duplicate")


class ReviewEscalated(ReviewRequested):
    sla_hours: float = Field(description="the review's SLA that passed, in hours")


# --- compliance (workflows/compliance.py) --------------------------------------------------------


class ExclusionMatchData(EventData):
    record_name: str
    exclusion_type: str
    exclusion_date: str
    state: str
    npi: str | None
    matched_on: str = Field(description="legal_name, dba_name or identifiers.npi")
    score: float
    waiver: str | None


class SupplierExcluded(EventData):
    vendor_id: str
    erp_supplier_id: str | None
    legal_name: str
    matches: list[ExclusionMatchData] = Field(min_length=1, description="the exclusion records matched, best first")


class CredentialNoticeData(EventData):
    vendor_id: str
    erp_supplier_id: str | None
    legal_name: str | None
    kind: str = Field(description="the credential document, e.g. coi, w9, license")
    expires_on: date


class CredentialExpiring(CredentialNoticeData):
    days_left: int = Field(gt=0)
    band: Literal[CredentialBand.DAYS_60, CredentialBand.DAYS_30, CredentialBand.DAYS_7] = Field(
        description="the warning band (days before expiry): one event per credential, expiry date and band"
    )


class CredentialExpired(CredentialNoticeData):
    days_left: int = Field(le=0)
    band: Literal[CredentialBand.EXPIRED]


class ReviewTaskDecided(EventData):
    action: ApproveOrReject
    reason: str
    resolved_by: str
    outcome: Literal[ComplianceOutcome.CONFIRMED, ComplianceOutcome.DISMISSED] = Field(
        description="confirmed: approved; dismissed: rejected"
    )
    summary: str = Field(description="what the task was about")


# --- supplier status sync (workflows/status_sync.py) --------------------------------------------


class StatusChange(EventData):
    event_id: str = Field(description="the vendor-management event applied")
    status: VendorStatus
    note: str | None
    purchase_orders: list[str] = Field(description="the supplier's open POs held or released with it")


class HoldChanged(StatusChange):
    erp_supplier_id: str
    erp_status: str = Field(description="the supplier's status in the ERP afterwards")


class HoldPlaced(HoldChanged):
    action: Literal[ErpAction.HOLD]


class HoldReleased(HoldChanged):
    action: Literal[ErpAction.RELEASE]


class StatusChangeUnmatched(StatusChange):
    action: None
    erp_supplier_id: None
    erp_status: None


# --- master data (workflows/master_data_sync.py, master_data_conflict.py) ----------------------


class ConflictData(EventData):
    record: str
    system: MasterSystem
    local_id: str | None
    field: str
    kind: ConflictKind
    before: Any = Field(description="the system's value (masked when the field is sensitive)")
    surviving: Any = Field(description="the value the rules chose (masked when the field is sensitive)")
    rule: str
    sensitive: bool


class ConflictResolved(EventData):
    conflict: ConflictData
    action: ApproveOrReject
    resolved_by: str
    reason: str
    outcome: ConflictOutcome
    note: str | None = Field(description="why the system refused the surviving value, when it did")


class MasterDataDrifted(EventData):
    sync_id: str
    entity: Entity
    drifted: DriftCounts


class SyncCompleted(MasterDataDrifted):
    dry_run: bool
    read: dict[str, int] = Field(description="records read per system")
    matched: int
    in_sync: int
    corrected: int
    created: int
    conflicts: int = Field(description="differences handed to a person in this run (tasks opened)")
    awaiting_decision: int = Field(description="records with a task open for a person")
    kept: int
    rejected: list[str] = Field(description="each rejected record with its reason")
    failed: list[str] = Field(description="records a system refused to correct")
    duration_seconds: float
    compared: int
    accuracy: float


# --- alerts (workflows/alerts.py) ---------------------------------------------------------------


class AlertRaised(EventData):
    alert_id: int = Field(description="the alert's number (supplybridge alerts list, GET /v1/alerts)")
    rule: str = Field(description="the rule's id (domain/alert_rules.json, or the file SUPPLYBRIDGE_ALERT_RULES names)")
    kind: AlertKind
    subject: str = Field(description="what it is about: a team, a system, an entity, a workflow id, or dead-letters")
    severity: Severity
    summary: str = Field(description="the measurement, on one line")
    team: str = Field(description="the team whose channel hears of it (operations: the alert webhook)")
    opened_at: datetime
    value: float | None = Field(description="the measured count or share")
    threshold: float
    notices: int = Field(ge=1, description="times the alert was announced, this one included")


class AlertRenotified(AlertRaised):
    """The same fields: the alert is still open past the re-notify interval."""


class AlertResolved(AlertRaised):
    resolved_at: datetime


# --- subscriptions --------------------------------------------------------------------------------


class SubscriptionTest(EventData):
    subscription_id: str
    requested_by: str = Field(description="who asked for the test delivery")
