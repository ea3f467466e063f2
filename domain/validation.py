"""Business validation of an onboarding request: check digits and credentialing.

Every rule returns `ValidationIssue`s naming the field (dotted path, as in the input file)
and the reason; no issue ever contains the value itself.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum import ean, luhn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.us import ein, rtn, ssn

from domain.base import DomainModel
from domain.supplier import CredentialingStatus, SupplierOnboardingRequest, TaxIdKind

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


def validate_onboarding_request(request: SupplierOnboardingRequest, today: date) -> list[ValidationIssue]:
    """Every reason the request cannot be onboarded as it stands (empty when it can)."""
    issues: list[ValidationIssue] = []

    def add(field: str, reason: str | None) -> None:
        if reason:
            issues.append(ValidationIssue(field=field, reason=reason))

    tax_value = request.tax_id.value.reveal()
    if request.tax_id.kind is TaxIdKind.EIN:
        add("tax_id.value", check_ein(tax_value))
    else:
        add("tax_id.value", check_ssn(tax_value))

    bank = request.bank_account
    add("bank_account.routing_number", check_aba_routing(bank.routing_number.reveal()))
    account = bank.account_number.reveal()
    if not account.isdigit() or not 4 <= len(account) <= 17:
        add("bank_account.account_number", "a US bank account number has 4 to 17 digits")

    ids = request.identifiers
    for name, check in (("duns", check_duns), ("gln", check_gln), ("hin", check_hin), ("npi", check_npi)):
        value = getattr(ids, name)
        if value:
            add(f"identifiers.{name}", check(value))

    for index, category in enumerate(request.categories):
        if not _UNSPSC.match(category):
            add(f"categories[{index}]", "a UNSPSC commodity code has 8 digits")

    credentialing = request.credentialing
    if credentialing.status is not CredentialingStatus.APPROVED:
        add("credentialing.status", f"credentialing is {credentialing.status.value}, not approved")
    kinds = {doc.kind for doc in credentialing.documents}
    for required in REQUIRED_DOCUMENTS:
        if required not in kinds:
            add("credentialing.documents", f"the {required.upper()} document is missing")
    for index, doc in enumerate(credentialing.documents):
        if doc.expires_on is not None and doc.expires_on < today:
            add(f"credentialing.documents[{index}].expires_on", f"the {doc.kind} expired on {doc.expires_on}")
    return issues
