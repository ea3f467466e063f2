"""Scheduled compliance rules: the exclusion index gives exactly the matches of the one-by-one
screening (hypothesis), and credential warnings fall in bands once each."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.compliance import CredentialBand, ExclusionIndex, band_of, credential_notices
from domain.exclusions import ExclusionRecord, find_exclusion_matches
from domain.supplier import CredentialDocument, VendorRegistration

WORDS = ["Apex", "Durable", "Medical", "Equipment", "Gulf", "Coast", "Surgical", "Supply", "Inc", "LLC", "Co"]
names = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
records = st.lists(
    st.builds(
        ExclusionRecord,
        busname=names,
        npi=st.sampled_from(["", "0000000000", "1619933804", "1093817562"]),
        reindate=st.sampled_from(["", "00000000", "20240101"]),
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(records, names, st.one_of(st.none(), names), st.sampled_from([None, "1619933804", "0000000000"]))
def test_the_index_finds_exactly_what_screening_one_by_one_finds(
    rows: list[ExclusionRecord], legal: str, dba: str | None, npi: str | None
) -> None:
    assert ExclusionIndex(rows).matches(legal, dba, npi) == find_exclusion_matches(legal, dba, npi, rows)


def test_a_reinstated_record_is_not_a_match() -> None:
    rows = [ExclusionRecord(busname="GULF COAST SURGICAL", reindate="20240101")]
    assert ExclusionIndex(rows).matches("Gulf Coast Surgical LLC", None, None) == []


def test_bands() -> None:
    assert [band_of(d) for d in (61, 60, 31, 30, 8, 7, 1, 0, -3)] == [
        None, CredentialBand.DAYS_60, CredentialBand.DAYS_60, CredentialBand.DAYS_30, CredentialBand.DAYS_30,
        CredentialBand.DAYS_7, CredentialBand.DAYS_7, CredentialBand.EXPIRED, CredentialBand.EXPIRED,
    ]  # fmt: skip


def test_each_expiring_document_gets_one_notice_with_a_stable_key() -> None:
    today = date(2026, 11, 24)
    registration = VendorRegistration(
        vendor_id="VM-1", status="active", documents=[
            CredentialDocument(kind="w9"),
            CredentialDocument(kind="certificate_of_insurance", expires_on=today + timedelta(days=29)),
            CredentialDocument(kind="state_license", expires_on=today - timedelta(days=1)),
        ],
    )  # fmt: skip
    notices = credential_notices(registration, today)
    assert [(n.kind, n.band, n.days_left) for n in notices] == [
        ("certificate_of_insurance", CredentialBand.DAYS_30, 29),
        ("state_license", CredentialBand.EXPIRED, -1),
    ]
    assert notices[0].key == "VM-1:certificate_of_insurance:2026-12-23:30"
    assert credential_notices(registration, today + timedelta(days=1))[0].key == notices[0].key
