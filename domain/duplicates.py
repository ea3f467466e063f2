"""Matching an incoming supplier against the ERP supplier master.

- same tax id as an ERP supplier: it is that supplier (link and update, never a second one);
- otherwise a name at or above `REVIEW_THRESHOLD` similar to an ERP supplier: a possible
  duplicate that a person must decide;
- otherwise: new.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from domain.base import DomainModel
from domain.names import name_similarity

REVIEW_THRESHOLD = 85.0


class ErpCandidate(DomainModel):
    """An ERP supplier as the matcher sees it: no tax id travels, only whether it matched."""

    erp_supplier_id: str
    legal_name: str
    status: str
    tax_id_matches: bool = False


class MatchKind(StrEnum):
    NEW = "new"
    SAME_SUPPLIER = "same_supplier"
    POSSIBLE_DUPLICATE = "possible_duplicate"


class ScoredCandidate(DomainModel):
    erp_supplier_id: str
    legal_name: str
    status: str
    score: float
    tax_id_matches: bool


class MatchVerdict(DomainModel):
    kind: MatchKind
    erp_supplier_id: str | None = None
    candidates: list[ScoredCandidate] = Field(default_factory=list)


def score_candidates(legal_name: str, candidates: list[ErpCandidate]) -> list[ScoredCandidate]:
    scored = [
        ScoredCandidate(
            erp_supplier_id=c.erp_supplier_id,
            legal_name=c.legal_name,
            status=c.status,
            score=round(name_similarity(legal_name, c.legal_name), 1),
            tax_id_matches=c.tax_id_matches,
        )
        for c in candidates
    ]
    return sorted(scored, key=lambda s: (not s.tax_id_matches, -s.score))


def classify_match(legal_name: str, candidates: list[ErpCandidate]) -> MatchVerdict:
    scored = score_candidates(legal_name, candidates)
    same = [s for s in scored if s.tax_id_matches]
    if same:
        # Prefer an active record when the ERP (wrongly) holds the tax id twice.
        chosen = next((s for s in same if s.status != "inactive"), same[0])
        return MatchVerdict(kind=MatchKind.SAME_SUPPLIER, erp_supplier_id=chosen.erp_supplier_id, candidates=same)
    similar = [s for s in scored if s.score >= REVIEW_THRESHOLD]
    if similar:
        return MatchVerdict(kind=MatchKind.POSSIBLE_DUPLICATE, candidates=similar[:5])
    return MatchVerdict(kind=MatchKind.NEW)
