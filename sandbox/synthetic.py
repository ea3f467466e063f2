"""Synthetic suppliers for the master-data sync's tests and bench: N related suppliers in the
vendor-management system, the ERP (header, remit-to site, bank account), the contract system's
supplier references and the analytics platform, all in agreement, then a known share of them
made to drift, one kind of drift each, in turn:

- `erp_legal_name`: the ERP's legal name differs (vendor management is authoritative)
- `vm_payment_terms`: vendor management's payment terms differ (the ERP is authoritative)
- `contracts_legal_name`: the contract system's supplier reference has another name
- `erp_still_active`: suspended in vendor management, active in the ERP
- `analytics_missing`: the analytics platform does not have the supplier

Deterministic: the same (suppliers, drift_rate, seed) gives the same records and the same drift.
Sensitive fields never drift here (a bank account that differs is a task for a person; tests
make one on purpose). Rows are inserted in bulk, so 20,000 suppliers take seconds.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from sandbox.db import Documents

DRIFT_KINDS = ("erp_legal_name", "vm_payment_terms", "contracts_legal_name", "erp_still_active", "analytics_missing")
BASE_TIME = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
NAMES = ("Medical", "Surgical", "Health", "Clinical", "Care", "Lab", "Dental", "Vision")
SUFFIXES = ("Supply Inc", "Products LLC", "Distributors Co", "Solutions Inc")
TERMS = ("NET30", "NET45", "NET60", "2/10 NET30")
STATES = (("Chicago", "IL", "60611"), ("Columbus", "OH", "43215"), ("Denver", "CO", "80202"), ("Austin", "TX", "78701"))


class SyntheticSpec(BaseModel):
    suppliers: int = Field(ge=1, le=200_000)
    drift_rate: float = Field(default=0.05, ge=0, le=1)
    seed: int = 7


class DriftedSupplier(BaseModel):
    vendor_id: str
    erp_supplier_id: str
    kind: str


class SyntheticReport(BaseModel):
    suppliers: int
    drifted: list[DriftedSupplier]


def synthetic_ids(number: int) -> tuple[str, str, str]:
    """(vendor management id, ERP supplier id, contract system reference) of synthetic supplier n."""
    return f"VM-S{number:06d}", f"SUP-S{number:06d}", f"CS-S{number:06d}"


def generate(session: Session, spec: SyntheticSpec) -> SyntheticReport:
    rng = random.Random(spec.seed)
    numbers = range(1, spec.suppliers + 1)
    drifting = sorted(rng.sample(list(numbers), round(spec.suppliers * spec.drift_rate)))
    kinds = {n: DRIFT_KINDS[i % len(DRIFT_KINDS)] for i, n in enumerate(drifting)}
    rows: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
    for number in numbers:
        for key, doc_id, body in _supplier_rows(number, rng, kinds.get(number)):
            rows.setdefault(key, []).append((doc_id, body))
    for (system, kind), documents in rows.items():
        Documents(session, system).insert_many(kind, documents)
    drifted = [DriftedSupplier(vendor_id=synthetic_ids(n)[0], erp_supplier_id=synthetic_ids(n)[1], kind=kinds[n])
               for n in drifting]  # fmt: skip
    return SyntheticReport(suppliers=spec.suppliers, drifted=drifted)


def _supplier_rows(
    number: int, rng: random.Random, drift: str | None
) -> list[tuple[tuple[str, str], str, dict[str, Any]]]:
    vendor_id, erp_id, reference = synthetic_ids(number)
    name = f"{rng.choice(NAMES)} {rng.choice(NAMES)} {rng.choice(SUFFIXES)} {number}"
    terms = rng.choice(TERMS)
    city, state, postal = rng.choice(STATES)
    address = {
        "line1": f"{100 + number} Commerce Dr",
        "city": city,
        "state": state,
        "postal_code": postal,
        "country": "US",
    }
    tax_id = {"kind": "EIN", "value": f"98-{number:07d}"}
    bank = {"routing_number": "071000013", "account_number": f"55{number:010d}", "account_type": "checking",
            "holder_name": name}  # fmt: skip
    stamp = BASE_TIME.isoformat()
    later = (BASE_TIME + timedelta(days=1)).isoformat()
    master = {"legal_name": name, "dba_name": None, "tax_id": tax_id, "address": address, "identifiers": None,
              "contacts": None, "diversity": [], "categories": ["42132203"], "payment_terms": terms,
              "bank_account": bank}  # fmt: skip
    registration = {"vendor_id": vendor_id, **master, "status": "active", "erp_supplier_id": erp_id,
                    "documents": [], "created_at": stamp, "updated_at": stamp}  # fmt: skip
    erp = {"erp_supplier_id": erp_id, "legal_name": name, "dba_name": None, "tax_id": tax_id, "status": "active",
           "hold_reason": None, "status_reason": None, "payment_terms": terms, "identifiers": {},
           "categories": ["42132203"], "diversity": [], "external_ids": {"vendor_management": vendor_id},
           "created_at": stamp, "updated_at": stamp}  # fmt: skip
    contract_ref = {"supplier_ref": reference, "legal_name": name, "erp_supplier_id": erp_id, "contract_ids": [],
                    "updated_at": stamp}  # fmt: skip
    analytics = {"key": vendor_id, "legal_name": name, "dba_name": None, "status": "active", "diversity": [],
                 "address": address, "erp_supplier_id": erp_id, "unspsc_categories": ["42132203"],
                 "updated_at": stamp}  # fmt: skip
    if drift == "erp_legal_name":
        erp |= {"legal_name": f"{name} (ERP)", "updated_at": later}
    elif drift == "vm_payment_terms":
        registration |= {"payment_terms": "NET90", "updated_at": later}
    elif drift == "contracts_legal_name":
        contract_ref |= {"legal_name": name.upper(), "updated_at": later}
    elif drift == "erp_still_active":
        registration |= {"status": "suspended", "status_reason": "synthetic drift", "updated_at": later}
    rows: list[tuple[tuple[str, str], str, dict[str, Any]]] = [
        (("vendor-management", "registration"), vendor_id, registration),
        (("erp", "supplier"), erp_id, erp),
        (("erp", "site"), f"SITE-S{number:06d}", {"site_id": f"SITE-S{number:06d}", "erp_supplier_id": erp_id,
                                                  "purpose": "remit_to", "address": address, "created_at": stamp}),
        (("erp", "bank_account"), f"BA-S{number:06d}", {"bank_account_id": f"BA-S{number:06d}",
                                                        "erp_supplier_id": erp_id, **bank, "created_at": stamp}),
        (("contracts", "supplier"), reference, contract_ref),
    ]  # fmt: skip
    if drift != "analytics_missing":
        rows.append((("analytics", "suppliers"), vendor_id, analytics))
    return rows
