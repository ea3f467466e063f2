"""HttpErp against the sandbox ERP over HTTP."""

from __future__ import annotations

import pytest

from adapters import http as http_module
from adapters.erp_http import HttpErp
from adapters.errors import BusinessRuleError, NotFoundError
from adapters.http import SystemClient
from domain.supplier import (
    AccountType,
    Address,
    BankAccount,
    ErpSupplierDraft,
    ErpSupplierStatus,
    ErpSupplierUpdate,
    SitePurpose,
    SupplierSite,
    TaxId,
    TaxIdKind,
)

NEW_TAX_ID = "61-2345678"


def draft(tax_id: str = NEW_TAX_ID, legal_name: str = "Harborview Medical Supply LLC") -> ErpSupplierDraft:
    return ErpSupplierDraft(
        legal_name=legal_name,
        tax_id=TaxId(kind=TaxIdKind.EIN, value=tax_id),
        payment_terms="NET30",
        categories=["42132203"],
        external_ids={"vendor_management": "VM-200001"},
    )


async def suppliers_with_tax_id(erp: HttpErp, tax_id: str) -> list[str]:
    return [s.erp_supplier_id async for s in erp.list_suppliers(tax_id=tax_id)]


async def test_lists_the_seeded_suppliers_with_their_cross_references(erp: HttpErp) -> None:
    suppliers = [s async for s in erp.list_suppliers()]

    assert [s.erp_supplier_id for s in suppliers] == [f"SUP-000{n}" for n in range(1, 7)]
    assert suppliers[0].external_ids == {"vendor_management": "VM-100001"}
    assert suppliers[1].tax_id is not None and suppliers[1].tax_id.digits() == "521987345"


async def test_filters_compare_tax_id_digits_names_case_insensitively_status_and_external_ids(
    erp: HttpErp,
) -> None:
    assert await suppliers_with_tax_id(erp, "521987345") == ["SUP-0002"]
    assert await suppliers_with_tax_id(erp, "52-1987345") == ["SUP-0002"]
    assert [s.erp_supplier_id async for s in erp.list_suppliers(name="SURGICAL")] == ["SUP-0002"]
    assert [s.erp_supplier_id async for s in erp.list_suppliers(status="inactive")] == ["SUP-0005"]
    assert [s.erp_supplier_id async for s in erp.list_suppliers(external_id="VM-100003")] == ["SUP-0003"]


async def test_pages_through_with_limit_and_offset(
    erp: HttpErp, erp_client: SystemClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(3):
        await erp.create_supplier(
            draft(f"61-000000{number}", f"Paging Supplier {number}"), idempotency_key=f"p{number}"
        )

    page = await erp_client.request("GET", "/suppliers", params={"limit": 4, "offset": 4})
    assert (page["total"], page["limit"], page["offset"], page["has_more"]) == (9, 4, 4, True)
    assert [s["erp_supplier_id"] for s in page["items"]] == ["SUP-0005", "SUP-0006", "SUP-0007", "SUP-0008"]

    monkeypatch.setattr(http_module, "PAGE_SIZE", 2)
    walked = [s.erp_supplier_id async for s in erp.list_suppliers()]
    assert walked == [f"SUP-{n:04d}" for n in range(1, 10)]


async def test_a_page_larger_than_500_is_refused(erp_client: SystemClient) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        await erp_client.request("GET", "/suppliers", params={"limit": 501})
    assert raised.value.code == "limit_too_large"


async def test_unknown_supplier_is_not_found(erp: HttpErp) -> None:
    with pytest.raises(NotFoundError):
        await erp.get_supplier("SUP-9999")


async def test_create_with_the_same_idempotency_key_twice_creates_one_supplier(erp: HttpErp) -> None:
    first = await erp.create_supplier(draft(), idempotency_key="onboard-VM-200001")
    again = await erp.create_supplier(draft(), idempotency_key="onboard-VM-200001")

    assert first.erp_supplier_id == again.erp_supplier_id == "SUP-0007"
    assert first.status is ErpSupplierStatus.ACTIVE
    assert await suppliers_with_tax_id(erp, NEW_TAX_ID) == ["SUP-0007"]


async def test_the_same_idempotency_key_with_another_body_is_refused(erp: HttpErp) -> None:
    await erp.create_supplier(draft(), idempotency_key="onboard-VM-200001")

    with pytest.raises(BusinessRuleError) as raised:
        await erp.create_supplier(draft(legal_name="Someone Else Inc"), idempotency_key="onboard-VM-200001")
    assert raised.value.code == "idempotency_key_reused"
    assert raised.value.stable_type == "erp.idempotency_key_reused"


async def test_a_tax_id_held_by_another_supplier_is_refused_without_showing_it(erp: HttpErp) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        await erp.create_supplier(draft(tax_id="52-1987345"), idempotency_key="onboard-VM-200002")

    assert raised.value.code == "duplicate_tax_id"
    assert raised.value.status == 409
    assert "1987345" not in str(raised.value)


async def test_update_replaces_the_given_fields_and_leaves_the_others(erp: HttpErp) -> None:
    changes = ErpSupplierUpdate(categories=["42132203", "99999999"], identifiers={"npi": "1234567893"})

    updated = await erp.update_supplier("SUP-0001", changes, idempotency_key="update-1")

    assert updated.categories == ["42132203", "99999999"]
    assert updated.identifiers == {"npi": "1234567893"}
    assert updated.external_ids == {"vendor_management": "VM-100001"}
    assert updated.payment_terms == "NET45"


async def test_hold_release_and_deactivate(erp: HttpErp) -> None:
    held = await erp.place_hold("SUP-0002", "OIG exclusion under review", idempotency_key="hold-1")
    assert (held.status, held.hold_reason) == (ErpSupplierStatus.ON_HOLD, "OIG exclusion under review")

    released = await erp.release_hold("SUP-0002", "cleared", idempotency_key="release-1")
    assert (released.status, released.hold_reason) == (ErpSupplierStatus.ACTIVE, None)

    deactivated = await erp.deactivate_supplier("SUP-0002", "contract ended", idempotency_key="deactivate-1")
    assert deactivated.status is ErpSupplierStatus.INACTIVE


async def test_holding_an_inactive_supplier_keeps_it_inactive_and_records_the_reason(erp: HttpErp) -> None:
    held = await erp.place_hold("SUP-0005", "credential expired", idempotency_key="hold-2")

    assert (held.status, held.hold_reason) == (ErpSupplierStatus.INACTIVE, "credential expired")


async def test_sites_and_bank_accounts_are_added_and_accounts_listed_masked(
    erp: HttpErp, erp_client: SystemClient
) -> None:
    created = await erp.create_supplier(draft(), idempotency_key="onboard-VM-200001")
    address = Address(line1="1 Harbor St", city="Boston", state="MA", postal_code="02110")
    site_id = await erp.add_site(
        created.erp_supplier_id,
        SupplierSite(purpose=SitePurpose.REMIT_TO, address=address),
        idempotency_key="s1",
    )
    account = BankAccount(
        routing_number="011000138",
        account_number="123456789012",
        account_type=AccountType.SAVINGS,
        holder_name="Harborview Medical Supply LLC",
    )
    bank_account_id = await erp.add_bank_account(created.erp_supplier_id, account, idempotency_key="b1")

    assert site_id.startswith("SITE-") and bank_account_id.startswith("BA-")
    sites = await erp_client.request("GET", f"/suppliers/{created.erp_supplier_id}/sites")
    assert [(s["site_id"], s["purpose"], s["address"]["city"]) for s in sites["items"]] == [
        (site_id, "remit_to", "Boston")
    ]
    accounts = await erp_client.request("GET", f"/suppliers/{created.erp_supplier_id}/bank-accounts")
    assert accounts["items"] == [
        {
            "bank_account_id": bank_account_id,
            "erp_supplier_id": created.erp_supplier_id,
            "routing_number_last4": "0138",
            "account_number_last4": "9012",
            "account_type": "savings",
            "holder_name": "Harborview Medical Supply LLC",
            "created_at": accounts["items"][0]["created_at"],
        }
    ]
    assert "123456789012" not in str(accounts) and "011000138" not in str(accounts)


async def test_sites_of_an_unknown_supplier_are_not_found(erp: HttpErp) -> None:
    address = Address(line1="1 Harbor St", city="Boston", state="MA", postal_code="02110")
    with pytest.raises(NotFoundError):
        await erp.add_site("SUP-9999", SupplierSite(purpose=SitePurpose.REMIT_TO, address=address), idempotency_key="x")
