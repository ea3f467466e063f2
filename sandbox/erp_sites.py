"""ERP supplier sites and bank accounts (`/erp/suppliers/{id}/sites|bank-accounts`).

Bank accounts are stored in full, as an ERP would hold them, but no response ever carries more
than the last four digits of the routing and account numbers.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from domain.supplier import BankAccount, SupplierSite
from sandbox.db import DbSession, Documents, utc_now

SYSTEM_NAME = "erp"
SITE = "site"
BANK_ACCOUNT = "bank_account"

router = APIRouter()


def _supplier_documents(session: Session, erp_supplier_id: str) -> Documents:
    docs = Documents(session, SYSTEM_NAME)
    docs.require("supplier", erp_supplier_id, label="supplier")
    return docs


def store_site(docs: Documents, erp_supplier_id: str, site: SupplierSite) -> dict[str, Any]:
    site_id = docs.next_id("SITE-", 5)
    body = {"site_id": site_id, "erp_supplier_id": erp_supplier_id, **site.model_dump(mode="json")}
    return docs.put(SITE, site_id, {**body, "created_at": utc_now()})


def store_bank_account(docs: Documents, erp_supplier_id: str, account: BankAccount) -> dict[str, Any]:
    bank_account_id = docs.next_id("BA-", 5)
    body = {"bank_account_id": bank_account_id, "erp_supplier_id": erp_supplier_id}
    return docs.put(BANK_ACCOUNT, bank_account_id, {**body, **account.model_dump(mode="json"), "created_at": utc_now()})


def masked_bank_account(stored: dict[str, Any]) -> dict[str, Any]:
    return {
        "bank_account_id": stored["bank_account_id"],
        "erp_supplier_id": stored["erp_supplier_id"],
        "routing_number_last4": _last4(stored["routing_number"]),
        "account_number_last4": _last4(stored["account_number"]),
        "account_type": stored["account_type"],
        "holder_name": stored["holder_name"],
        "created_at": stored.get("created_at"),
    }


def _last4(number: str) -> str:
    return "".join(ch for ch in number if ch.isalnum())[-4:]


@router.post("/suppliers/{erp_supplier_id}/sites", status_code=201)
def add_site(session: DbSession, erp_supplier_id: str, site: SupplierSite) -> dict[str, Any]:
    return store_site(_supplier_documents(session, erp_supplier_id), erp_supplier_id, site)


@router.get("/suppliers/{erp_supplier_id}/sites")
def list_sites(session: DbSession, erp_supplier_id: str) -> dict[str, Any]:
    docs = _supplier_documents(session, erp_supplier_id)
    return {"items": [s for s in docs.all(SITE) if s["erp_supplier_id"] == erp_supplier_id]}


@router.post("/suppliers/{erp_supplier_id}/bank-accounts", status_code=201)
def add_bank_account(session: DbSession, erp_supplier_id: str, account: BankAccount) -> dict[str, Any]:
    docs = _supplier_documents(session, erp_supplier_id)
    return masked_bank_account(store_bank_account(docs, erp_supplier_id, account))


@router.get("/suppliers/{erp_supplier_id}/bank-accounts")
def list_bank_accounts(session: DbSession, erp_supplier_id: str) -> dict[str, Any]:
    docs = _supplier_documents(session, erp_supplier_id)
    accounts = [a for a in docs.all(BANK_ACCOUNT) if a["erp_supplier_id"] == erp_supplier_id]
    return {"items": [masked_bank_account(a) for a in accounts]}


def expanded(docs: Documents, suppliers: list[dict[str, Any]], wanted: set[str]) -> list[dict[str, Any]]:
    """`suppliers` with their sites and (masked) bank accounts, for a listing with `expand`."""
    ids = {s["erp_supplier_id"] for s in suppliers}
    children: dict[str, dict[str, list[dict[str, Any]]]] = {i: {"sites": [], "bank_accounts": []} for i in ids}
    if "sites" in wanted:
        for site in docs.where_field_in(SITE, "erp_supplier_id", ids):
            children[site["erp_supplier_id"]]["sites"].append(site)
    if "bank_accounts" in wanted:
        for account in docs.where_field_in(BANK_ACCOUNT, "erp_supplier_id", ids):
            children[account["erp_supplier_id"]]["bank_accounts"].append(masked_bank_account(account))
    return [{**s, **{k: v for k, v in children[s["erp_supplier_id"]].items() if k in wanted}} for s in suppliers]
