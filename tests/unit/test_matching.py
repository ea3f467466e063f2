"""Name normalisation, duplicate scoring and exclusion matching (pure domain rules)."""

from __future__ import annotations

import pytest

from domain.duplicates import ErpCandidate, MatchKind, classify_match
from domain.exclusions import ExclusionRecord, find_exclusion_matches
from domain.names import name_control, normalise_name
from tests.support.fakes import APEX

LAKESHORE = ErpCandidate(erp_supplier_id="SUP-0001", legal_name="Lakeshore Medical Products Inc", status="active")
NORTHGATE = ErpCandidate(erp_supplier_id="SUP-0002", legal_name="Northgate Surgical Supply LLC", status="active")


@pytest.mark.parametrize(
    "name",
    [
        "Apex Durable Medical Equipment, Inc.",
        "APEX DURABLE MEDICAL EQUIPMENT INC",
        "Apex Durable Medical Equipment Incorporated",
        "apex durable medical equipment, L.L.C.",
        "Apex Durable Medical Equipment Limited Liability Company",
    ],
)
def test_legal_forms_case_and_punctuation_fold_away(name: str) -> None:
    assert normalise_name(name) == "apex durable medical equipment"


def test_words_inside_a_name_are_kept() -> None:
    assert normalise_name("Co-Op Supply Co") == "co op supply"
    assert normalise_name("Johnson & Sons Corp.") == "johnson and sons"


def test_name_control() -> None:
    assert name_control("Northgate Surgical Supply, L.L.C.") == name_control("NORTHGATE SURGICAL SUPPLY LLC") == "NORT"


def test_same_tax_id_is_the_same_supplier_whatever_the_name() -> None:
    verdict = classify_match("Northgate Surgical", [NORTHGATE.model_copy(update={"tax_id_matches": True}), LAKESHORE])
    assert verdict.kind is MatchKind.SAME_SUPPLIER and verdict.erp_supplier_id == "SUP-0002"


def test_an_active_record_is_preferred_when_the_tax_id_is_held_twice() -> None:
    inactive = ErpCandidate(erp_supplier_id="SUP-0009", legal_name="Northgate", status="inactive", tax_id_matches=True)
    verdict = classify_match("Northgate", [inactive, NORTHGATE.model_copy(update={"tax_id_matches": True})])
    assert verdict.erp_supplier_id == "SUP-0002"


@pytest.mark.parametrize("name", ["Lakeshore Medical Products Incorporated", "LAKESHORE MEDICAL PRODUCT INC"])
def test_similar_name_with_another_tax_id_needs_review(name: str) -> None:
    verdict = classify_match(name, [LAKESHORE, NORTHGATE])
    assert verdict.kind is MatchKind.POSSIBLE_DUPLICATE
    assert [c.erp_supplier_id for c in verdict.candidates] == ["SUP-0001"]


def test_different_name_is_new() -> None:
    assert classify_match("Harborview Wound Care Products LLC", [LAKESHORE, NORTHGATE]).kind is MatchKind.NEW


MERIDIAN = ExclusionRecord(
    busname="MERIDIAN INFUSION PHARMACY LLC",
    excltype="1128a1",
    excldate="20240411",
    reindate="00000000",
    waiverdate="20250102",
    wvrstate="LA",
    npi="1740287766",
)
HARTWELL = ExclusionRecord(
    lastname="HARTWELL", firstname="DENNIS", midname="R", excltype="1128a4", reindate="00000000", npi="1093817562"
)


def test_exclusion_matches_other_forms_of_the_name() -> None:
    matches = find_exclusion_matches("Apex Durable Medical Equipment, Incorporated", None, None, [APEX, MERIDIAN])
    assert [m.record_name for m in matches] == ["APEX DURABLE MEDICAL EQUIPMENT INC"]
    assert matches[0].matched_on == "legal_name" and matches[0].score == 100.0


def test_exclusion_matches_on_dba_and_npi_and_cites_waivers() -> None:
    assert find_exclusion_matches("Acme Holdings", "Meridian Infusion Pharmacy", None, [MERIDIAN])[0].waiver
    by_npi = find_exclusion_matches("Someone Else", None, "1619933804", [APEX])
    assert by_npi[0].matched_on == "identifiers.npi"
    for form in ("Dennis Hartwell", "Dennis R. Hartwell", "HARTWELL DENNIS R"):
        assert find_exclusion_matches(form, None, None, [HARTWELL])[0].record_name == "DENNIS HARTWELL"


def test_reinstated_and_unrelated_names_do_not_match() -> None:
    reinstated = APEX.model_copy(update={"reindate": "20230101"})
    assert find_exclusion_matches("Apex Durable Medical Equipment Inc", None, None, [reinstated]) == []
    assert find_exclusion_matches("Apex Surgical Instruments", None, None, [APEX]) == []
    assert find_exclusion_matches("Someone", None, "0000000000", [APEX.model_copy(update={"npi": "0000000000"})]) == []


def _seed_exclusions() -> list[ExclusionRecord]:
    import csv
    from pathlib import Path

    seed = Path(__file__).resolve().parents[2] / "sandbox" / "seed" / "leie-excerpt.csv"
    with seed.open() as handle:
        return [
            ExclusionRecord.model_validate({k.lower(): v for k, v in row.items()}) for row in csv.DictReader(handle)
        ]


@pytest.mark.parametrize("suffix", ["", ", Inc.", " Incorporated", ", L.L.C.", " LLC", " Corp.", " Company"])
def test_every_active_seed_business_is_matched_in_other_legal_forms(suffix: str) -> None:
    records = _seed_exclusions()
    for record in (r for r in records if r.busname and r.is_active):
        core = normalise_name(record.busname).title()
        matches = find_exclusion_matches(core + suffix, None, None, records)
        assert [m.record_name for m in matches][:1] == [record.busname], (core + suffix, matches)
