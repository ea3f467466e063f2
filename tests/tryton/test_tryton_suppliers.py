"""TrytonErp against a real trytond (a child process on a throwaway SQLite database): the port's
behaviour, and what a Tryton user sees of it (parties read back over JSON-RPC).

Each test gets its own copy of the bootstrapped database (tests/support/tryton.py: modules, master
data, and the six seed suppliers made through `seed_supplier`), as it changes it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.erp import ErpPort
from adapters.errors import BusinessRuleError, NotFoundError
from adapters.tryton.rpc import TrytonRpc
from adapters.tryton.suppliers import TrytonErp, seed_supplier
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
from tests.support.tryton import TRYTON_MISSING, running_tryton, tryton_available

REPO = Path(__file__).resolve().parents[2]
NEW_TAX_ID = "61-2345678"


@pytest.fixture
async def rpc(tmp_path: Path) -> AsyncIterator[TrytonRpc]:
    """A fresh copy of the bootstrapped database per test (these tests change it)."""
    if not tryton_available():
        pytest.skip(TRYTON_MISSING)
    async with running_tryton(tmp_path / "state") as endpoint, endpoint.rpc() as session:
        yield session


@pytest.fixture
def erp(rpc: TrytonRpc) -> TrytonErp:
    port: ErpPort = TrytonErp(rpc)  # mypy checks that it is the port
    assert isinstance(port, TrytonErp)
    return port


def draft(
    tax_id: str = NEW_TAX_ID, legal_name: str = "Harborview Medical Supply LLC", **extra: Any
) -> ErpSupplierDraft:
    return ErpSupplierDraft(
        legal_name=legal_name,
        tax_id=TaxId(kind=TaxIdKind.EIN, value=tax_id),
        payment_terms="NET30",
        categories=["42132203"],
        external_ids={"vendor_management": "VM-200001"},
        **extra,
    )


async def party_as_tryton_shows_it(rpc: TrytonRpc, code: str) -> dict[str, Any]:
    """The party with its identifiers and category names, read as a Tryton client would."""
    fields = ["name", "active", "supplier_payment_term.name", "categories", "identifiers"]
    party = (await rpc.search_read("party.party", [("code", "=", code), ("active", "in", [True, False])], fields))[0]
    identifiers = await rpc.call("party.identifier", "read", party["identifiers"], ["type", "code"])
    categories = await rpc.call("party.category", "read", party["categories"], ["rec_name"])
    return {
        "name": party["name"],
        "active": party["active"],
        "payment_term": party["supplier_payment_term."]["name"],
        "identifiers": sorted((i["type"] or "", i["code"]) for i in identifiers),
        "categories": sorted(c["rec_name"] for c in categories),
    }


async def test_lists_the_seeded_suppliers_with_their_cross_references(erp: TrytonErp) -> None:
    suppliers = [s async for s in erp.list_suppliers()]

    assert [s.erp_supplier_id for s in suppliers] == [f"SUP-000{n}" for n in range(1, 7)]
    first = suppliers[0]
    assert first.external_ids == {"vendor_management": "VM-100001"}
    assert first.identifiers == {"duns": "078412233", "gln": "0300123456785"}
    assert (first.payment_terms, sorted(first.categories)) == ("NET45", ["42131702", "42132203"])
    assert first.tax_id is not None and first.tax_id.kind is TaxIdKind.EIN and first.tax_id.digits() == "364412098"
    assert [s.status for s in suppliers].count(ErpSupplierStatus.INACTIVE) == 1


async def test_the_seed_is_a_tryton_party_with_typed_tax_id_address_and_bank_account(rpc: TrytonRpc) -> None:
    shown = await party_as_tryton_shows_it(rpc, "SUP-0001")
    assert shown["name"] == "Lakeshore Medical Products Inc" and shown["payment_term"] == "NET45"
    assert ("us_ein", "36-4412098") in shown["identifiers"]
    assert ("", "duns:078412233") in shown["identifiers"]
    party_id = (await rpc.search_read("party.party", [("code", "=", "SUP-0001")], ["id"]))[0]["id"]
    addresses = await rpc.search_read("party.address", [("party", "=", party_id)], ["city", "invoice", "street"])
    assert [(a["city"], a["invoice"], a["street"]) for a in addresses] == [("Chicago", True, "400 N Lakeshore Dr")]
    accounts = await rpc.search_read("bank.account", [("owners", "=", party_id)], ["numbers", "bank.party.code"])
    numbers = await rpc.call("bank.account.number", "read", accounts[0]["numbers"], ["type", "number"])
    assert [(n["type"], n["number"]) for n in numbers] == [("other", "448812930017")]
    assert accounts[0]["bank."]["party."]["code"] == "ABA-071000013"


async def test_filters_compare_tax_id_digits_names_case_insensitively_status_and_external_ids(erp: TrytonErp) -> None:
    async def ids(**filters: str) -> list[str]:
        return [s.erp_supplier_id async for s in erp.list_suppliers(**filters)]

    assert await ids(tax_id="521987345") == ["SUP-0002"]
    assert await ids(tax_id="52-1987345") == ["SUP-0002"]
    assert await ids(name="SURGICAL") == ["SUP-0002"]
    assert await ids(name="summit laboratory") == ["SUP-0005"]  # inactive suppliers are found by name too
    assert await ids(status="inactive") == ["SUP-0005"]
    assert await ids(external_id="VM-100003") == ["SUP-0003"]
    assert await ids(external_id="VM-10000") == []
    assert await ids(name="100%_") == []


async def test_unknown_supplier_is_not_found(erp: TrytonErp) -> None:
    with pytest.raises(NotFoundError):
        await erp.get_supplier("SUP-9999")
    with pytest.raises(NotFoundError):
        await erp.place_hold("SUP-9999", "x", idempotency_key="h")


async def test_create_takes_the_next_code_and_the_same_key_twice_creates_one_supplier(
    erp: TrytonErp, rpc: TrytonRpc
) -> None:
    first = await erp.create_supplier(draft(dba_name="Harborview"), idempotency_key="onboard-VM-200001")
    again = await erp.create_supplier(draft(dba_name="Harborview"), idempotency_key="onboard-VM-200001")

    assert first.erp_supplier_id == again.erp_supplier_id == "SUP-0007"
    assert first.status is ErpSupplierStatus.ACTIVE and first.payment_terms == "NET30"
    assert [s.erp_supplier_id async for s in erp.list_suppliers(tax_id=NEW_TAX_ID)] == ["SUP-0007"]
    assert [s.erp_supplier_id async for s in erp.list_suppliers(name="harborview")] == ["SUP-0007"]
    shown = await party_as_tryton_shows_it(rpc, "SUP-0007")
    assert ("us_ein", NEW_TAX_ID) in shown["identifiers"] and ("", "dba:Harborview") in shown["identifiers"]


async def test_the_same_key_with_another_body_is_refused(erp: TrytonErp) -> None:
    await erp.create_supplier(draft(), idempotency_key="onboard-VM-200001")

    with pytest.raises(BusinessRuleError) as raised:
        await erp.create_supplier(draft(legal_name="Someone Else Inc"), idempotency_key="onboard-VM-200001")
    assert raised.value.stable_type == "erp.idempotency_key_reused"


async def test_a_tax_id_held_by_another_supplier_is_refused_without_showing_it(erp: TrytonErp) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        await erp.create_supplier(draft(tax_id="52-1987345"), idempotency_key="onboard-VM-200002")

    assert (raised.value.code, raised.value.status) == ("duplicate_tax_id", 409)
    assert "1987345" not in str(raised.value)
    with pytest.raises(BusinessRuleError) as raised:  # SUP-0005 is inactive and still holds its tax id
        await erp.create_supplier(draft(tax_id="463891042"), idempotency_key="onboard-VM-200003")
    assert raised.value.code == "duplicate_tax_id"


async def test_a_tax_id_stdnum_refuses_is_kept_untyped_and_still_found(erp: TrytonErp, rpc: TrytonRpc) -> None:
    created = await erp.create_supplier(draft(tax_id="00-0000001"), idempotency_key="odd-ein")

    assert created.tax_id is not None and created.tax_id.digits() == "000000001"
    assert [s.erp_supplier_id async for s in erp.list_suppliers(tax_id="000000001")] == [created.erp_supplier_id]
    assert ("", "EIN:000000001") in (await party_as_tryton_shows_it(rpc, created.erp_supplier_id))["identifiers"]


async def test_unknown_payment_terms_are_refused(erp: TrytonErp) -> None:
    with pytest.raises(BusinessRuleError) as raised:
        await erp.create_supplier(draft().model_copy(update={"payment_terms": "NET999"}), idempotency_key="k")
    assert raised.value.code == "unknown_payment_terms"


async def test_update_replaces_the_given_fields_and_leaves_the_others(erp: TrytonErp, rpc: TrytonRpc) -> None:
    changes = ErpSupplierUpdate(
        categories=["42132203", "99999999"], identifiers={"npi": "1234567893"}, diversity=["MBE"]
    )

    updated = await erp.update_supplier("SUP-0001", changes, idempotency_key="update-1")

    assert sorted(updated.categories) == ["42132203", "99999999"]
    assert updated.identifiers == {"npi": "1234567893"}
    assert updated.external_ids == {"vendor_management": "VM-100001"}
    assert updated.payment_terms == "NET45"
    shown = await party_as_tryton_shows_it(rpc, "SUP-0001")
    assert shown["categories"] == ["42132203", "99999999", "SupplyBridge: diversity / MBE"]


async def test_hold_release_and_deactivate_are_visible_in_tryton(erp: TrytonErp, rpc: TrytonRpc) -> None:
    held = await erp.place_hold("SUP-0002", "OIG exclusion under review", idempotency_key="hold-1")
    assert (held.status, held.hold_reason) == (ErpSupplierStatus.ON_HOLD, "OIG exclusion under review")
    shown = await party_as_tryton_shows_it(rpc, "SUP-0002")
    assert "SupplyBridge: on hold" in shown["categories"]
    assert ("", "hold-reason:OIG exclusion under review") in shown["identifiers"]
    assert [s.erp_supplier_id async for s in erp.list_suppliers(status="on_hold")] == ["SUP-0002"]
    assert "SUP-0002" not in [s.erp_supplier_id async for s in erp.list_suppliers(status="active")]

    released = await erp.release_hold("SUP-0002", "cleared", idempotency_key="release-1")
    assert (released.status, released.hold_reason) == (ErpSupplierStatus.ACTIVE, None)
    assert "SupplyBridge: on hold" not in (await party_as_tryton_shows_it(rpc, "SUP-0002"))["categories"]

    deactivated = await erp.deactivate_supplier("SUP-0002", "contract ended", idempotency_key="deactivate-1")
    await erp.deactivate_supplier("SUP-0002", "contract ended", idempotency_key="deactivate-1")
    assert deactivated.status is ErpSupplierStatus.INACTIVE
    assert not (await party_as_tryton_shows_it(rpc, "SUP-0002"))["active"]
    party_id = (await rpc.search_read("party.party", [("code", "=", "SUP-0002"), ("active", "=", False)], ["id"]))[0]
    notes = await rpc.search_read("ir.note", [("resource", "=", f"party.party,{party_id['id']}")], ["message"])
    assert [n["message"].splitlines()[0] for n in notes] == [
        "On hold: OIG exclusion under review",
        "Hold released: cleared",
        "Deactivated: contract ended",
    ]


async def test_holding_an_inactive_supplier_keeps_it_inactive_and_records_the_reason(erp: TrytonErp) -> None:
    held = await erp.place_hold("SUP-0005", "credential expired", idempotency_key="hold-2")

    assert (held.status, held.hold_reason) == (ErpSupplierStatus.INACTIVE, "credential expired")
    released = await erp.release_hold("SUP-0005", "cleared", idempotency_key="release-2")
    assert (released.status, released.hold_reason) == (ErpSupplierStatus.INACTIVE, None)


async def test_sites_and_bank_accounts_are_added_once_per_key(erp: TrytonErp, rpc: TrytonRpc) -> None:
    created = await erp.create_supplier(draft(), idempotency_key="onboard-VM-200001")
    address = Address(line1="1 Harbor St", line2="Suite 5", city="Boston", state="MA", postal_code="02110")
    order_from = SupplierSite(purpose=SitePurpose.ORDER_FROM, address=address)
    site_id = await erp.add_site(created.erp_supplier_id, order_from, idempotency_key="s1")
    assert await erp.add_site(created.erp_supplier_id, order_from, idempotency_key="s1") == site_id
    remit_to = SupplierSite(purpose=SitePurpose.REMIT_TO, address=address)
    with pytest.raises(BusinessRuleError) as raised:
        await erp.add_site(created.erp_supplier_id, remit_to, idempotency_key="s1")
    assert raised.value.code == "idempotency_key_reused"
    account = BankAccount(
        routing_number="011000138",
        account_number="123456789012",
        account_type=AccountType.SAVINGS,
        holder_name="Harborview Medical Supply LLC",
    )
    account_id = await erp.add_bank_account(created.erp_supplier_id, account, idempotency_key="b1")
    assert await erp.add_bank_account(created.erp_supplier_id, account, idempotency_key="b1") == account_id

    addresses = await rpc.call("party.address", "read", [int(site_id)], ["street", "postal_code", "invoice"])
    assert addresses == [
        {"id": int(site_id), "street": "1 Harbor St\nSuite 5", "postal_code": "MA 02110", "invoice": False}
    ]
    owned = await rpc.search_read("bank.account", [("owners.code", "=", created.erp_supplier_id)], ["id"])
    assert [a["id"] for a in owned] == [int(account_id)]
    assert (await erp.get_supplier(created.erp_supplier_id)).identifiers == {}


async def test_sites_of_an_unknown_supplier_are_not_found(erp: TrytonErp) -> None:
    address = Address(line1="1 Harbor St", city="Boston", state="MA", postal_code="02110")
    with pytest.raises(NotFoundError):
        await erp.add_site("SUP-9999", SupplierSite(purpose=SitePurpose.REMIT_TO, address=address), idempotency_key="x")


async def test_paging_walks_past_one_page(erp: TrytonErp, monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.tryton import suppliers

    monkeypatch.setattr(suppliers, "PAGE_SIZE", 2)
    assert [s.erp_supplier_id async for s in erp.list_suppliers()] == [f"SUP-000{n}" for n in range(1, 7)]


async def test_seeding_again_changes_nothing(rpc: TrytonRpc, erp: TrytonErp) -> None:
    record = json.loads((REPO / "sandbox/seed/erp-suppliers.json").read_text())[0]
    before = await party_as_tryton_shows_it(rpc, "SUP-0001")

    party_id = await seed_supplier(rpc, record)

    assert await party_as_tryton_shows_it(rpc, "SUP-0001") == before
    assert len(await rpc.search_read("party.address", [("party", "=", party_id)], ["id"])) == 1
    assert len(await rpc.search_read("bank.account", [("owners", "=", party_id)], ["id"])) == 1
