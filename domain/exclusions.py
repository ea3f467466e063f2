"""Exclusion screening against the OIG LEIE (List of Excluded Individuals/Entities).

An exclusion record is active unless it carries a reinstatement date. A supplier matches a
record when its legal or DBA name normalises to the record's business name (or, for an
individual, to "first last"), when the similarity is at or above `FUZZY_THRESHOLD`, or when
its NPI equals the record's NPI. A waiver (WAIVERDATE/WVRSTATE) does not lift an exclusion
for a supplier; it is cited in the match so the compliance team sees it.
"""

from __future__ import annotations

from pydantic import Field

from domain.base import DomainModel, LenientModel
from domain.names import name_similarity, normalise_name

FUZZY_THRESHOLD = 95.0
_NO_DATE = {"", "00000000"}


class ExclusionRecord(LenientModel):
    """One LEIE row (column names lower-cased)."""

    lastname: str = ""
    firstname: str = ""
    midname: str = ""
    busname: str = ""
    general: str = ""
    specialty: str = ""
    upin: str = ""
    npi: str = ""
    dob: str = ""
    address: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    excltype: str = ""
    excldate: str = ""
    reindate: str = ""
    waiverdate: str = ""
    wvrstate: str = ""

    @property
    def is_active(self) -> bool:
        return self.reindate.strip() in _NO_DATE

    @property
    def display_name(self) -> str:
        if self.busname.strip():
            return self.busname.strip()
        return " ".join(p for p in (self.firstname.strip(), self.lastname.strip()) if p)

    @property
    def name_forms(self) -> list[str]:
        """The forms a name can take: a business name as is; an individual as "first last",
        "first middle last" and "first m last" (similarity is word-order insensitive)."""
        if self.busname.strip():
            return [self.busname.strip()]
        first, mid, last = self.firstname.strip(), self.midname.strip(), self.lastname.strip()
        forms = [self.display_name]
        if mid:
            forms += [f"{first} {mid} {last}", f"{first} {mid[0]} {last}"]
        return [f for f in forms if f]


class ExclusionMatch(DomainModel):
    record_name: str
    exclusion_type: str
    exclusion_date: str
    state: str
    npi: str | None = None
    matched_on: str = Field(description="legal_name, dba_name or identifiers.npi")
    score: float
    waiver: str | None = None


def find_exclusion_matches(
    legal_name: str,
    dba_name: str | None,
    npi: str | None,
    records: list[ExclusionRecord],
) -> list[ExclusionMatch]:
    """Every active exclusion record this supplier matches, best first."""
    candidates = [("legal_name", legal_name)] + ([("dba_name", dba_name)] if dba_name else [])
    matches: list[ExclusionMatch] = []
    for record in records:
        if not record.is_active:
            continue
        best: tuple[str, float] | None = None
        record_name = record.display_name
        for field, name in candidates:
            for form in record.name_forms:
                score = 100.0 if normalise_name(name) == normalise_name(form) else name_similarity(name, form)
                if score >= FUZZY_THRESHOLD and (best is None or score > best[1]):
                    best = (field, score)
        record_npi = record.npi.strip()
        if best is None and npi and record_npi and record_npi.strip("0") and record_npi == npi:
            best = ("identifiers.npi", 100.0)
        if best is None:
            continue
        waiver = None
        if record.waiverdate.strip() not in _NO_DATE:
            waiver = f"waiver {record.waiverdate} ({record.wvrstate or 'no state'})"
        matches.append(
            ExclusionMatch(
                record_name=record_name,
                exclusion_type=record.excltype,
                exclusion_date=record.excldate,
                state=record.state,
                npi=record_npi if record_npi.strip("0") else None,
                matched_on=best[0],
                score=round(best[1], 1),
                waiver=waiver,
            )
        )
    return sorted(matches, key=lambda m: -m.score)
