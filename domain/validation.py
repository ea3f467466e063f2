"""Business validation of an onboarding request: check digits and credentialing.

Every rule returns `ValidationIssue`s naming the field (dotted path, as in the input file)
and the reason; no issue ever contains the value itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from stdnum import ean, luhn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.us import ein, rtn, ssn

from domain.base import DomainModel
from domain.supplier import (
    BankAccount,
    Credentialing,
    CredentialingStatus,
    Identifiers,
    SupplierOnboardingRequest,
    TaxId,
    TaxIdKind,
)

REQUIRED_DOCUMENTS = ("w9",)
_UNSPSC = re.compile(r"^\d{8}$")
_DUNS = re.compile(r"^\d{9}$")
_HIN = re.compile(r"^[A-Z0-9]{7}[A-Z0-9]{2}$")


class ValidationIssue(DomainModel):
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def _stdnum_reason(error: ValidationError, what: str) -> str:
    if isinstance(error, InvalidChecksum):
        return f"the {what} check digit fails"
    if isinstance(error, InvalidLength):
        return f"the {what} has the wrong number of digits"
    if isinstance(error, InvalidFormat):
        return f"the {what} is not in a valid format"
    if isinstance(error, InvalidComponent):
        return f"the {what} uses a prefix that is never issued"
    return f"the {what} is not valid"


def check_ein(value: str) -> str | None:
    try:
        ein.validate(value)
    except ValidationError as error:
        return _stdnum_reason(error, "EIN")
    return None


def check_ssn(value: str) -> str | None:
    try:
        ssn.validate(value)
    except ValidationError as error:
        return _stdnum_reason(error, "SSN")
    return None


def check_aba_routing(value: str) -> str | None:
    try:
        rtn.validate(value)
    except ValidationError as error:
        return _stdnum_reason(error, "ABA routing number")
    return None


def check_gln(value: str) -> str | None:
    if len(value) != 13 or not value.isdigit():
        return "a GS1 GLN has 13 digits"
    return None if ean.is_valid(value) else "the GS1 GLN check digit fails"


def check_gtin(value: str) -> str | None:
    if len(value) not in (8, 12, 13, 14) or not value.isdigit():
        return "a GTIN has 8, 12, 13 or 14 digits"
    return None if ean.is_valid(value) else "the GTIN check digit fails"


def check_npi(value: str) -> str | None:
    """NPI: 10 digits, Luhn check digit computed with the 80840 card-issuer prefix."""
    if len(value) != 10 or not value.isdigit():
        return "an NPI has 10 digits"
    return None if luhn.is_valid("80840" + value) else "the NPI check digit fails (Luhn with prefix 80840)"


def check_duns(value: str) -> str | None:
    return None if _DUNS.match(value) else "a DUNS number has 9 digits"


def check_hin(value: str) -> str | None:
    return None if _HIN.match(value.upper()) else "an HIBCC HIN has 9 letters or digits"


def _tax_id_issues(tax_id: TaxId) -> list[ValidationIssue]:
    check = check_ein if tax_id.kind is TaxIdKind.EIN else check_ssn
    return _issues(("tax_id.value", check(tax_id.value.reveal())))


def _bank_account_issues(bank: BankAccount) -> list[ValidationIssue]:
    account = bank.account_number.reveal()
    account_reason = (
        None if account.isdigit() and 4 <= len(account) <= 17 else "a US bank account number has 4 to 17 digits"
    )
    return _issues(
        ("bank_account.routing_number", check_aba_routing(bank.routing_number.reveal())),
        ("bank_account.account_number", account_reason),
    )


def _identifier_issues(ids: Identifiers) -> list[ValidationIssue]:
    checks = (("duns", check_duns), ("gln", check_gln), ("hin", check_hin), ("npi", check_npi))
    return _issues(*((f"identifiers.{name}", check(value)) for name, check in checks if (value := getattr(ids, name))))


def _category_issues(categories: list[str]) -> list[ValidationIssue]:
    reason = "a UNSPSC commodity code has 8 digits"
    return _issues(*((f"categories[{i}]", None if _UNSPSC.match(c) else reason) for i, c in enumerate(categories)))


def _credentialing_issues(credentialing: Credentialing, today: date) -> list[ValidationIssue]:
    found: list[tuple[str, str | None]] = []
    if credentialing.status is not CredentialingStatus.APPROVED:
        found.append(("credentialing.status", f"credentialing is {credentialing.status.value}, not approved"))
    kinds = {doc.kind for doc in credentialing.documents}
    found += [
        ("credentialing.documents", f"the {r.upper()} document is missing")
        for r in REQUIRED_DOCUMENTS
        if r not in kinds
    ]
    for index, doc in enumerate(credentialing.documents):
        if doc.expires_on is not None and doc.expires_on < today:
            found.append(
                (f"credentialing.documents[{index}].expires_on", f"the {doc.kind} expired on {doc.expires_on}")
            )
    return _issues(*found)


def _issues(*found: tuple[str, str | None]) -> list[ValidationIssue]:
    return [ValidationIssue(field=field, reason=reason) for field, reason in found if reason]


def validate_onboarding_request(request: SupplierOnboardingRequest, today: date) -> list[ValidationIssue]:
    """Every reason the request cannot be onboarded as it stands (empty when it can)."""
    return [
        *_tax_id_issues(request.tax_id),
        *_bank_account_issues(request.bank_account),
        *_identifier_issues(request.identifiers),
        *_category_issues(request.categories),
        *_credentialing_issues(request.credentialing, today),
    ]


# Each business rule needs only its own part of the request: (field, how it parses, its rules).
_PARTS: tuple[tuple[str, TypeAdapter[Any], Callable[[Any, date], list[ValidationIssue]]], ...] = (
    ("tax_id", TypeAdapter(TaxId), lambda part, _: _tax_id_issues(part)),
    ("bank_account", TypeAdapter(BankAccount), lambda part, _: _bank_account_issues(part)),
    ("identifiers", TypeAdapter(Identifiers), lambda part, _: _identifier_issues(part)),
    ("categories", TypeAdapter(list[str]), lambda part, _: _category_issues(part)),
    ("credentialing", TypeAdapter(Credentialing), _credentialing_issues),
)


def business_issues_in_document(data: Any, today: date) -> list[ValidationIssue]:
    """The business rules' findings in a request document that does not parse as a whole.

    A file with a malformed e-mail and a wrong routing number has two problems, and the caller is
    told both at once: every part that parses on its own (tax id, bank account, identifiers,
    categories, credentialing) is checked; a part that does not parse is already reported by the
    structure check, so it is skipped here."""
    if not isinstance(data, dict):
        return []
    found: list[ValidationIssue] = []
    for name, adapter, rules in _PARTS:
        if name not in data:
            continue
        try:
            part = adapter.validate_python(data[name])
        except PydanticValidationError:
            continue
        found += rules(part, today)
    return found


def issue_location(field: str) -> tuple[str | int, ...]:
    """`credentialing.documents[0].expires_on` -> ("credentialing", "documents", 0, "expires_on")."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"\.|\[|\]\.?", field.rstrip("]")) if p)
