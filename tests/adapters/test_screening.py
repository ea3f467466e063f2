"""HttpScreening against the sandbox screening service: LEIE rows and IRS TIN-match codes."""

from __future__ import annotations

import httpx

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


NEWER_LEIE = (
    "LASTNAME,FIRSTNAME,MIDNAME,BUSNAME,GENERAL,SPECIALTY,UPIN,NPI,DOB,ADDRESS,CITY,STATE,ZIP,EXCLTYPE,EXCLDATE,"
    "REINDATE,WAIVERDATE,WVRSTATE\n"
    ",,,NORTHGATE SURGICAL SUPPLY LLC,OTHER BUSINESS,WHOLESALER,,0000000000,,1 MAIN ST,DAYTON,OH,45402,1128b7,"
    "20261101,00000000,00000000,\n"
    ",,,,OTHER BUSINESS,WHOLESALER,,0000000000,,2 MAIN ST,DAYTON,OH,45402,1128b7,20261101,00000000,00000000,\n"
    "HARTWELL,DENNIS,R,,IND- LIC HC SERV PRO,PHARMACIST,,1093817562,19680422,22 ELM ST,AKRON,OH,44308,1128a4,"
    "20200601,00000000,00000000,\n"
)


async def test_a_newer_leie_file_replaces_the_list_and_names_each_refused_row(
    screening: HttpScreening, sandbox: RunningSandbox
) -> None:
    response = httpx.put(f"{sandbox.url}/screening/exclusions", content=NEWER_LEIE.encode(),
                         headers={**sandbox.headers, "Content-Type": "text/csv"}, timeout=10)  # fmt: skip

    assert response.status_code == 200, response.text
    assert response.json() == {
        "loaded": 2,
        "refused": [{"line": 3, "reason": "Value error, busname or lastname is required"}],
    }
    records = await screening.list_exclusions()
    assert [r.display_name for r in records] == ["NORTHGATE SURGICAL SUPPLY LLC", "DENNIS HARTWELL"]


async def test_a_file_without_the_leie_columns_is_refused_naming_them(sandbox: RunningSandbox) -> None:
    response = httpx.put(f"{sandbox.url}/screening/exclusions", content=b"NAME,NPI\nACME,1\n",
                         headers={**sandbox.headers, "Content-Type": "text/csv"}, timeout=10)  # fmt: skip

    assert response.status_code == 400
    assert "LEIE columns missing: lastname, firstname" in response.json()["detail"]
