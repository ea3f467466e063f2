"""The supplier master contract (adapters/erp.py `ErpPort`), the same for every ERP.

Seeded suppliers (sandbox/seed/erp-suppliers.json) are read, never changed; every test makes the
suppliers it changes, with tax ids and names unique to it (`TestIds`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.erp_http import HttpErp
from adapters.errors import BusinessRuleError, NotFoundError
from adapters.http import SystemClient
from domain.supplier import (
    AccountType,
    Address,
    BankAccount,
    ErpSupplier,
    ErpSupplierDraft,
    ErpSupplierStatus,
    ErpSupplierUpdate,
    SitePurpose,
    SupplierSite,
    TaxId,
    TaxIdKind,
)
from tests.contracts.conftest import ErpUnderTest, TestIds, answered_despite_lost_answers, use_small_pages
from tests.support.sandbox import running_sandbox

SEEDED = json.loads((Path(__file__).resolve().parents[2] / "sandbox/seed/erp-suppliers.json").read_text())
SEEDED_IDS = [record["erp_supplier_id"] for record in SEEDED]
SUPPLIER_ID = r"SUP-\d{4}"


def draft(ids: TestIds, *, name: str | None = None, tax_id: str | None = None) -> ErpSupplierDraft:
    return ErpSupplierDraft(
        legal_name=name or f"Contract {ids.token()} Medical Supply LLC",
        tax_id=TaxId(kind=TaxIdKind.EIN, value=tax_id or ids.tax_id()),
        payment_terms="NET30",
        categories=["42132203"],
        external_ids={"vendor_management": f"VM-{ids.stem}"},
    )


async def listed(erp: ErpUnderTest, **filters: Any) -> list[str]:
    return sorted([s.erp_supplier_id async for s in erp.suppliers.list_suppliers(**filters)])


async def created(erp: ErpUnderTest, ids: TestIds, **draft_fields: Any) -> ErpSupplier:
    return await erp.suppliers.create_supplier(draft(ids, **draft_fields), idempotency_key=ids.key("create"))


# --- reading --------------------------------------------------------------------------------


async def test_every_seeded_supplier_is_listed_and_read_as_seeded(erp: ErpUnderTest) -> None:
    assert set(SEEDED_IDS) <= set(await listed(erp))
    for record in SEEDED:
        supplier = await erp.suppliers.get_supplier(record["erp_supplier_id"])
        assert supplier.erp_supplier_id == record["erp_supplier_id"]
        assert supplier.legal_name == record["legal_name"]
        assert supplier.status == record["status"]
        assert supplier.payment_terms == record["payment_terms"]
        assert supplier.tax_id is not None and supplier.tax_id.digits() == record["tax_id"]["value"].replace("-", "")


async def test_an_unknown_supplier_is_not_found(erp: ErpUnderTest) -> None:
    with pytest.raises(NotFoundError) as missing:
        await erp.suppliers.get_supplier("SUP-9999")
    assert missing.value.code == "not_found"


async def test_filters_by_tax_id_digits_name_status_and_external_id_across_pages(
    erp: ErpUnderTest, ids: TestIds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With pages of 2, the three suppliers a filter finds take two pages."""
    assert use_small_pages(erp, monkeypatch)
    token = ids.token()
    made = [await created(erp, ids, name=f"{token} Surgical {n} Inc") for n in range(3)]
    held, inactive = made[1].erp_supplier_id, made[2].erp_supplier_id
    await erp.suppliers.place_hold(held, "credential expired", idempotency_key=ids.key("hold"))
    await erp.suppliers.deactivate_supplier(inactive, "no longer used", idempotency_key=ids.key("off"))

    assert await listed(erp, name=token) == sorted(s.erp_supplier_id for s in made)
    assert await listed(erp, name=token.upper()) == sorted(s.erp_supplier_id for s in made)
    assert await listed(erp, name=token, status="active") == [made[0].erp_supplier_id]
    assert await listed(erp, name=token, status="on_hold") == [held]
    assert await listed(erp, name=token, status="inactive") == [inactive]
    tax_id = made[0].tax_id
    assert tax_id is not None
    digits = tax_id.digits()
    assert await listed(erp, tax_id=digits) == [made[0].erp_supplier_id]
    assert await listed(erp, tax_id=f"{digits[:2]}-{digits[2:]}") == [made[0].erp_supplier_id]
    assert await listed(erp, tax_id=ids.tax_id()) == []
    assert await listed(erp, external_id=f"VM-{ids.stem}") == sorted(s.erp_supplier_id for s in made)
    assert await listed(erp, name="northgate surgical") == ["SUP-0002"]
    assert "SUP-0005" in await listed(erp, status="inactive")


async def test_a_listing_pages_past_500_suppliers(erp: ErpUnderTest, tmp_path: Path) -> None:
    """Needs more than one page of 500: made in bulk in a sandbox of its own (synthetic
    suppliers); on Tryton that many suppliers are too slow to make."""
    if erp.name != "sandbox":
        pytest.skip(f"{erp.name}: more than 500 suppliers are too slow to create for a test")
    with running_sandbox(tmp_path) as sandbox:
        sandbox.admin("POST", "/admin/synthetic", {"suppliers": 600, "drift_rate": 0})
        async with SystemClient("erp", sandbox.system_url("erp"), token=sandbox.token, attempts=1) as client:
            everyone = [s.erp_supplier_id async for s in HttpErp(client).list_suppliers()]
            active = [s.erp_supplier_id async for s in HttpErp(client).list_suppliers(status="active")]
    assert len(everyone) == len(set(everyone)) == 600 + len(SEEDED)
    assert len(active) == len(set(active)) == 600 + sum(r["status"] == "active" for r in SEEDED)


# --- creating -------------------------------------------------------------------------------


async def test_a_created_supplier_is_active_with_the_draft_fields(erp: ErpUnderTest, ids: TestIds) -> None:
    wanted = draft(ids)
    supplier = await erp.suppliers.create_supplier(wanted, idempotency_key=ids.key("create"))

    assert supplier.erp_supplier_id not in SEEDED_IDS
    assert supplier.erp_supplier_id.startswith("SUP-") and supplier.erp_supplier_id[4:].isdigit()
    assert supplier.legal_name == wanted.legal_name
    assert supplier.status is ErpSupplierStatus.ACTIVE and supplier.hold_reason is None
    assert supplier.payment_terms == "NET30"
    assert supplier.tax_id is not None and supplier.tax_id.digits() == wanted.tax_id.digits()
    assert supplier.categories == ["42132203"]
    assert supplier.external_ids == {"vendor_management": f"VM-{ids.stem}"}
    assert await erp.suppliers.get_supplier(supplier.erp_supplier_id) == supplier


async def test_the_same_key_twice_creates_one_supplier(erp: ErpUnderTest, ids: TestIds) -> None:
    wanted, key = draft(ids), ids.key("create")
    first = await erp.suppliers.create_supplier(wanted, idempotency_key=key)
    again = await erp.suppliers.create_supplier(wanted, idempotency_key=key)

    assert again == first
    assert await listed(erp, tax_id=wanted.tax_id.digits()) == [first.erp_supplier_id]


async def test_the_same_key_with_another_body_is_refused(erp: ErpUnderTest, ids: TestIds) -> None:
    wanted, key = draft(ids), ids.key("create")
    first = await erp.suppliers.create_supplier(wanted, idempotency_key=key)
    other = wanted.model_copy(update={"legal_name": f"Other {ids.token()} Supply Co"})

    with pytest.raises(BusinessRuleError) as refused:
        await erp.suppliers.create_supplier(other, idempotency_key=key)
    with pytest.raises(BusinessRuleError) as refused_again:
        await erp.suppliers.create_supplier(other, idempotency_key=key)

    assert refused.value.code == refused_again.value.code == "idempotency_key_reused"
    assert await listed(erp, tax_id=wanted.tax_id.digits()) == [first.erp_supplier_id]
    assert (await erp.suppliers.get_supplier(first.erp_supplier_id)).legal_name == wanted.legal_name


async def test_a_tax_id_another_supplier_holds_is_refused_without_showing_it(erp: ErpUnderTest, ids: TestIds) -> None:
    with pytest.raises(BusinessRuleError) as refused:
        await created(erp, ids, tax_id="52-1987345")  # SUP-0002's

    assert refused.value.code == "duplicate_tax_id"
    assert "1987345" not in str(refused.value)
    assert await listed(erp, tax_id="521987345") == ["SUP-0002"]


# --- changing -------------------------------------------------------------------------------


async def test_update_changes_the_given_fields_and_keeps_the_others(erp: ErpUnderTest, ids: TestIds) -> None:
    supplier = await created(erp, ids)
    changes = ErpSupplierUpdate(
        categories=["42132203", "42131702"],
        identifiers={"duns": "123456789"},
        external_ids={"vendor_management": f"VM-{ids.stem}", "contracts": f"CS-{ids.stem}"},
    )
    updated = await erp.suppliers.update_supplier(supplier.erp_supplier_id, changes, idempotency_key=ids.key("u"))

    assert sorted(updated.categories) == ["42131702", "42132203"]  # a set of codes: order is not kept
    assert updated.identifiers.get("duns") == "123456789"
    assert updated.external_ids == {"vendor_management": f"VM-{ids.stem}", "contracts": f"CS-{ids.stem}"}
    assert (updated.legal_name, updated.payment_terms, updated.status) == (
        supplier.legal_name,
        "NET30",
        ErpSupplierStatus.ACTIVE,
    )
    assert await erp.suppliers.get_supplier(supplier.erp_supplier_id) == updated
    assert await listed(erp, external_id=f"CS-{ids.stem}") == [supplier.erp_supplier_id]


async def test_a_site_and_a_bank_account_are_added_once_per_key(erp: ErpUnderTest, ids: TestIds) -> None:
    supplier_id = (await created(erp, ids)).erp_supplier_id
    site = SupplierSite(
        purpose=SitePurpose.ORDER_FROM,
        address=Address(line1="1 Dock Rd", city="Columbus", state="OH", postal_code="43229"),
    )
    account = BankAccount(
        routing_number="071000013",
        account_number="998877665544",
        account_type=AccountType.CHECKING,
        holder_name="Contract Test Supply",
    )
    site_key, account_key = ids.key("site"), ids.key("bank")

    site_id = await erp.suppliers.add_site(supplier_id, site, idempotency_key=site_key)
    account_id = await erp.suppliers.add_bank_account(supplier_id, account, idempotency_key=account_key)

    assert site_id and account_id
    assert await erp.suppliers.add_site(supplier_id, site, idempotency_key=site_key) == site_id
    assert await erp.suppliers.add_bank_account(supplier_id, account, idempotency_key=account_key) == account_id
    assert "998877665544" not in account_id


async def test_a_site_of_an_unknown_supplier_is_not_found(erp: ErpUnderTest, ids: TestIds) -> None:
    site = SupplierSite(
        purpose=SitePurpose.REMIT_TO,
        address=Address(line1="1 Nowhere St", city="Chicago", state="IL", postal_code="60611"),
    )
    with pytest.raises(NotFoundError):
        await erp.suppliers.add_site("SUP-9999", site, idempotency_key=ids.key("site"))


async def test_hold_release_and_deactivate(erp: ErpUnderTest, ids: TestIds) -> None:
    supplier_id = (await created(erp, ids)).erp_supplier_id
    hold_key = ids.key("hold")

    held = await erp.suppliers.place_hold(supplier_id, "credential expired", idempotency_key=hold_key)
    assert (held.status, held.hold_reason) == (ErpSupplierStatus.ON_HOLD, "credential expired")
    assert await erp.suppliers.place_hold(supplier_id, "credential expired", idempotency_key=hold_key) == held
    assert (await erp.suppliers.get_supplier(supplier_id)).status is ErpSupplierStatus.ON_HOLD

    released = await erp.suppliers.release_hold(supplier_id, "reinstated", idempotency_key=ids.key("release"))
    assert (released.status, released.hold_reason) == (ErpSupplierStatus.ACTIVE, None)

    inactive = await erp.suppliers.deactivate_supplier(supplier_id, "merged", idempotency_key=ids.key("off"))
    assert inactive.status is ErpSupplierStatus.INACTIVE
    assert (await erp.suppliers.get_supplier(supplier_id)).status is ErpSupplierStatus.INACTIVE


async def test_holding_an_inactive_supplier_keeps_it_inactive(erp: ErpUnderTest, ids: TestIds) -> None:
    supplier_id = (await created(erp, ids)).erp_supplier_id
    await erp.suppliers.deactivate_supplier(supplier_id, "merged", idempotency_key=ids.key("off"))

    held = await erp.suppliers.place_hold(supplier_id, "suspended", idempotency_key=ids.key("hold"))
    assert (held.status, held.hold_reason) == (ErpSupplierStatus.INACTIVE, "suspended")
    released = await erp.suppliers.release_hold(supplier_id, "reinstated", idempotency_key=ids.key("release"))
    assert released.status is ErpSupplierStatus.INACTIVE


# --- lost answers ---------------------------------------------------------------------------


async def test_a_create_whose_answers_are_lost_makes_one_supplier(
    erp_losing_answers: ErpUnderTest, ids: TestIds
) -> None:
    erp = erp_losing_answers
    wanted, key = draft(ids), ids.key("create")

    supplier = await answered_despite_lost_answers(lambda: erp.suppliers.create_supplier(wanted, idempotency_key=key))

    assert erp.transport is not None and erp.transport.lost  # an answer was lost, and retried
    assert supplier.legal_name == wanted.legal_name
    assert await listed(erp, tax_id=wanted.tax_id.digits()) == [supplier.erp_supplier_id]
