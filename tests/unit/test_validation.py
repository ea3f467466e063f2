"""Business validation of onboarding requests: every rule names the field and never the value."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from domain.supplier import SupplierOnboardingRequest
from domain.validation import check_aba_routing, check_gln, check_gtin, check_npi, validate_onboarding_request
from tests.examples import example_json, supplier_request

TODAY = date(2026, 11, 23)


def fields(request: SupplierOnboardingRequest) -> list[str]:
    return [issue.field for issue in validate_onboarding_request(request, TODAY)]


@pytest.mark.parametrize("name", ["new-supplier", "excluded-on-leie", "existing-supplier", "possible-duplicate"])
def test_valid_examples_pass(name: str) -> None:
    assert fields(supplier_request(name)) == []


def test_bad_routing_number_names_the_field_and_the_check_digit() -> None:
    issues = validate_onboarding_request(supplier_request("bad-routing-number"), TODAY)
    assert [i.field for i in issues] == ["bank_account.routing_number"]
    assert issues[0].reason == "the ABA routing number check digit fails"
    assert "021000022" not in str(issues[0])


def test_every_problem_is_reported_at_once() -> None:
    data = example_json("suppliers/new-supplier.json")
    data["tax_id"] = {"kind": "EIN", "value": "07-1234567"}  # 07 is never issued
    data["identifiers"] = {"gln": "0300123456784", "npi": "1234567890", "duns": "12345"}
    data["categories"] = ["4231"]
    data["credentialing"]["documents"][1]["expires_on"] = "2026-01-31"
    got = fields(SupplierOnboardingRequest.model_validate(data))
    assert got == [
        "tax_id.value",
        "identifiers.duns",
        "identifiers.gln",
        "identifiers.npi",
        "categories[0]",
        "credentialing.documents[1].expires_on",
    ]


def test_credentialing_must_be_approved_with_a_w9() -> None:
    data = example_json("suppliers/new-supplier.json")
    data["credentialing"] = {"status": "pending", "documents": []}
    assert fields(SupplierOnboardingRequest.model_validate(data)) == [
        "credentialing.status",
        "credentialing.documents",
    ]


def test_structure_errors_name_the_field_without_echoing_the_value() -> None:
    data = example_json("suppliers/new-supplier.json")
    del data["legal_name"]
    data["bank_account"]["account_type"] = "brokerage"
    with pytest.raises(ValidationError) as caught:
        SupplierOnboardingRequest.model_validate(data)
    locs = {".".join(map(str, e["loc"])) for e in caught.value.errors()}
    assert locs == {"legal_name", "bank_account.account_type"}
    assert "883100245561" not in str(caught.value)


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (check_aba_routing, "021000021", "021000022"),
        (check_gln, "0614141001002", "0614141001003"),
        (check_gtin, "10888881001012", "10888881001013"),
        (check_npi, "1245319599", "1245319598"),
    ],
)
def test_check_digits(check, good: str, bad: str) -> None:  # type: ignore[no-untyped-def]
    assert check(good) is None
    assert "check digit" in (check(bad) or "")
