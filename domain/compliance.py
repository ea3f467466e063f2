"""Scheduled compliance: rescreening every active supplier against the latest exclusion list, and
warning before (and acting on) credential expiry.

`ExclusionIndex` answers the same question as `exclusions.find_exclusion_matches` (same
normalisation, same threshold, same NPI rule) for many suppliers at once: the list is indexed
once (exact normalised names in a dict, the rest searched with rapidfuzz's `process.extract`,
which scores a query against every name in C), so a rescreen of thousands of suppliers against
a full LEIE file takes seconds, not hours.

Credential warnings come in bands: 60, 30 and 7 days before expiry, and expired. A credential is
warned once per band (the event id carries the band), so a daily run that falls in the same band
again says nothing new, and a missed day still warns on the next.
"""

from __future__ import annotations

from datetime import date
from enum import IntEnum, StrEnum

from pydantic import Field
from rapidfuzz import fuzz, process

from domain.base import DomainModel
from domain.decisions import OpenException
from domain.exclusions import FUZZY_THRESHOLD, ExclusionMatch, ExclusionRecord, find_exclusion_matches
from domain.names import normalise_name
from domain.supplier import VendorRegistration


class ExclusionIndex:
    def __init__(self, records: list[ExclusionRecord]) -> None:
        self._active = [r for r in records if r.is_active]
        self._names: list[str] = []
        self._owner: list[int] = []
        for i, record in enumerate(self._active):
            for form in record.name_forms:
                normalised = normalise_name(form)
                if normalised:
                    self._names.append(normalised)
                    self._owner.append(i)
        self._by_npi: dict[str, list[int]] = {}
        for i, record in enumerate(self._active):
            npi = record.npi.strip()
            if npi.strip("0"):
                self._by_npi.setdefault(npi, []).append(i)

    def matches(self, legal_name: str, dba_name: str | None, npi: str | None) -> list[ExclusionMatch]:
        """The supplier's matches, exactly as `find_exclusion_matches` over the whole list gives them."""
        candidates: set[int] = set()
        for name in filter(None, (legal_name, dba_name)):
            query = normalise_name(name)
            if not query:
                continue
            found = process.extract(query, self._names, scorer=fuzz.token_sort_ratio, score_cutoff=FUZZY_THRESHOLD,
                                    limit=None)  # fmt: skip
            candidates.update(self._owner[index] for _, _, index in found)
        candidates.update(self._by_npi.get(npi or "", []))
        if not candidates:
            return []
        return find_exclusion_matches(legal_name, dba_name, npi, [self._active[i] for i in sorted(candidates)])


class NewlyExcluded(DomainModel):
    vendor_id: str
    erp_supplier_id: str | None = None
    legal_name: str
    matches: list[ExclusionMatch]


class CredentialBand(IntEnum):
    """Days before expiry at which a warning goes out; EXPIRED on and after the day."""

    DAYS_60 = 60
    DAYS_30 = 30
    DAYS_7 = 7
    EXPIRED = 0


class CredentialNotice(DomainModel):
    vendor_id: str
    erp_supplier_id: str | None = None
    legal_name: str | None = None
    kind: str
    expires_on: date
    days_left: int
    band: CredentialBand = Field(description="60, 30, 7 days before, or 0: expired")

    @property
    def key(self) -> str:
        """One notice per credential, expiry date and band (the event id and the task id use it)."""
        return f"{self.vendor_id}:{self.kind}:{self.expires_on.isoformat()}:{self.band.value}"


def band_of(days_left: int) -> CredentialBand | None:
    if days_left <= 0:
        return CredentialBand.EXPIRED
    for band in (CredentialBand.DAYS_7, CredentialBand.DAYS_30, CredentialBand.DAYS_60):
        if days_left <= band.value:
            return band
    return None


def credential_notices(registration: VendorRegistration, today: date) -> list[CredentialNotice]:
    """The registration's credentials due for a warning (or expired) on `today`."""
    notices = []
    for document in registration.documents:
        if document.expires_on is None:
            continue
        days_left = (document.expires_on - today).days
        band = band_of(days_left)
        if band is not None:
            notices.append(
                CredentialNotice(
                    vendor_id=registration.vendor_id,
                    erp_supplier_id=registration.erp_supplier_id,
                    legal_name=registration.legal_name,
                    kind=document.kind,
                    expires_on=document.expires_on,
                    days_left=days_left,
                    band=band,
                )
            )
    return notices


class ComplianceInput(DomainModel):
    """A scheduled compliance run (`compliance-rescreen`, `credential-expiry`): nothing to say."""

    note: str | None = None


class RescreenResult(DomainModel):
    screened: int
    exclusion_records: int
    excluded: list[NewlyExcluded] = Field(default_factory=list)


class StatusChangeInput(DomainModel):
    vendor_id: str
    status: str  # suspended | credential_expired | reinstated
    reason: str
    idempotency_key: str


class CredentialReviewInput(DomainModel):
    today: date


class ComplianceStage(StrEnum):
    SCREENING = "screening"
    ACTING = "acting"
    AWAITING_DECISION = "awaiting_decision"
    APPLYING = "applying"
    COMPLETED = "completed"


class ComplianceOutcome(StrEnum):
    CLEAR = "clear"  # nothing found
    ACTED = "acted"  # suppliers held, warnings sent
    CONFIRMED = "confirmed"  # a review task: approved
    DISMISSED = "dismissed"  # a review task: rejected


class ComplianceResult(DomainModel):
    stage: ComplianceStage = ComplianceStage.SCREENING
    checked: int = 0
    held: list[str] = Field(default_factory=list, description="vendor ids put on hold")
    warned: list[str] = Field(default_factory=list, description="notice keys warned")
    tasks: list[str] = Field(default_factory=list, description="review tasks opened (workflow ids)")


class ReviewTaskInput(DomainModel):
    """A review a team owes: what, about whom, with which evidence. A rejected review may set the
    supplier's vendor status (a false exclusion match is reinstated)."""

    kind: str  # a DecisionKind value
    team: str
    record: str  # vendor id
    summary: str
    evidence: dict[str, object] = Field(default_factory=dict)
    sla_hours: float = Field(default=72, gt=0)
    status_on_reject: str | None = None


class ReviewTaskStatus(DomainModel):
    workflow_id: str
    record: str
    stage: ComplianceStage
    outcome: ComplianceOutcome | None = None
    open_exception: OpenException | None = None
    assigned_team: str | None = None


def compliance_review_id(vendor_id: str) -> str:
    return f"compliance-review-{vendor_id}"


def credential_renewal_id(notice: CredentialNotice) -> str:
    """One renewal task per credential and expiry date, whichever band opened it."""
    return f"credential-renewal-{notice.vendor_id}-{notice.kind}-{notice.expires_on.isoformat()}"
