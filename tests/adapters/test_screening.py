"""HttpScreening against the sandbox screening service: LEIE rows and IRS TIN-match codes."""

from __future__ import annotations

from adapters.http import SystemClient
from adapters.screening_http import HttpScreening
from domain.exclusions import find_exclusion_matches
from domain.supplier import TaxIdKind
from tests.support.sandbox import RunningSandbox


async def test_exclusions_parse_into_records(screening: HttpScreening) -> None:
    records = await screening.list_exclusions()

    assert len(records) == 8
    apex = next(r for r in records if r.busname.startswith("APEX"))
    assert (apex.npi, apex.excltype, apex.is_active) == ("1619933804", "1128a1", True)
    assert find_exclusion_matches("Apex Durable Medical Equipment, Inc.", None, None, records)


async def test_an_exclusion_added_at_run_time_is_listed(screening: HttpScreening, sandbox: RunningSandbox) -> None:
    sandbox.admin("POST", "/screening/admin/exclusions", {"busname": "HARBORVIEW MEDICAL SUPPLY LLC"})

    records = await screening.list_exclusions()

    assert records[-1].busname == "HARBORVIEW MEDICAL SUPPLY LLC"
    assert records[-1].is_active


async def test_a_registered_tin_with_its_name_matches(screening: HttpScreening) -> None:
    result = await screening.match_tin("52-1987345", TaxIdKind.EIN, "NORTHGATE SURGICAL SUPPLY L.L.C.")

    assert (result.code, result.matched) == (0, True)


async def test_a_registered_tin_with_another_name_does_not_match(screening: HttpScreening) -> None:
    result = await screening.match_tin("521987345", TaxIdKind.EIN, "Southgate Surgical Supply LLC")

    assert (result.code, result.matched) == (3, False)


async def test_a_tin_that_is_not_nine_digits_is_code_1(screening: HttpScreening) -> None:
    assert (await screening.match_tin("52-19873", TaxIdKind.EIN, "Northgate")).code == 1


async def test_an_unregistered_tin_is_taken_as_issued_to_the_name_given(screening: HttpScreening) -> None:
    assert (await screening.match_tin("61-2345678", TaxIdKind.EIN, "Harborview Medical Supply")).code == 0


async def test_the_registry_can_be_changed_at_run_time(screening: HttpScreening, sandbox: RunningSandbox) -> None:
    sandbox.admin("POST", "/screening/admin/tin-registry", {"tin": "61-2345678", "not_issued": True})
    sandbox.admin("POST", "/screening/admin/tin-registry", {"tin": "61-7654321", "name": "Other Holder Inc"})

    assert (await screening.match_tin("61-2345678", TaxIdKind.EIN, "Harborview")).code == 2
    assert (await screening.match_tin("61-7654321", TaxIdKind.EIN, "Harborview")).code == 3


async def test_an_unknown_tin_type_matching_an_ein_is_code_7(screening_client: SystemClient) -> None:
    body = {"tin": "364412098", "tin_type": "unknown", "name": "Lakeshore Medical Products"}

    assert (await screening_client.request("POST", "/tin-match", json=body))["code"] == 7
