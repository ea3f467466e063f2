"""The ERP's master data for the master-data sync (adapters/master_data.py `MasterDataPort`,
`HttpErpMaster` / `TrytonErpMaster`), the same for every ERP: seeded suppliers and items read in
canonical fields across pages, corrections written and read back, holds through `status`, and
what each ERP answers it can write.

Values are compared as the sync compares them (`normalise`: lists as sets, an empty list as None).
Where Tryton holds no value (an item's UNSPSC code) the test says so by name (`NOT_HELD_IN_TRYTON`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.errors import BusinessRuleError, NotFoundError
from adapters.master_data_http import HOLD_REASON
from domain.master_data.matching import SystemRecord
from domain.master_data.policy import Entity, MasterSystem
from domain.master_data.survivorship import normalise
from domain.supplier import ErpSupplierDraft, ErpSupplierStatus, TaxId, TaxIdKind
from tests.contracts.conftest import ErpUnderTest, TestIds, use_small_pages

SEED = Path(__file__).resolve().parents[2] / "sandbox/seed"
SEEDED_SUPPLIERS = json.loads((SEED / "erp-suppliers.json").read_text())
SEEDED_ITEMS = json.loads((SEED / "items.json").read_text())
STATUSES = {"active": "active", "on_hold": "hold", "inactive": "inactive"}
SUPPLIER_WRITES = {"legal_name", "dba_name", "payment_terms", "unspsc_categories", "diversity", "status", "address"}
NOT_WRITTEN = {
    Entity.SUPPLIERS: {"tax_id", "bank_account", "erp_supplier_id", "credentials", "contract_ids", "*"},
    Entity.ITEMS: {"*"},
}
NOT_HELD_IN_TRYTON = {"unspsc"}  # Tryton products have no classification code
SANDBOX_ONLY_ITEM_WRITES = {"base_unit", "unspsc"}  # TrytonErpMaster's docstring says why
ADDRESS = {"line1": "77 Harbor Point Blvd", "line2": "Dock 4", "city": "Baltimore", "state": "MD",
           "postal_code": "21224", "country": "US"}  # fmt: skip


async def read_all(erp: ErpUnderTest, entity: Entity) -> dict[str, SystemRecord]:
    records = [record async for record in erp.master.read(entity)]
    by_id = {record.local_id: record for record in records}
    assert len(by_id) == len(records), "a record was read twice"
    assert all(record.system is MasterSystem.ERP for record in records)
    return by_id


def values(record: SystemRecord) -> dict[str, Any]:
    return {name: normalise(value.value) for name, value in record.fields.items()}


async def new_supplier(erp: ErpUnderTest, ids: TestIds) -> str:
    draft = ErpSupplierDraft(
        legal_name=f"Master {ids.token()} Surgical LLC",
        tax_id=TaxId(kind=TaxIdKind.EIN, value=ids.tax_id()),
        payment_terms="NET30",
        categories=["42132203"],
    )
    return (await erp.suppliers.create_supplier(draft, idempotency_key=ids.key("create"))).erp_supplier_id


async def read_one(erp: ErpUnderTest, entity: Entity, local_id: str) -> dict[str, Any]:
    return values((await read_all(erp, entity))[local_id])


# --- reading --------------------------------------------------------------------------------


async def test_seeded_suppliers_are_read_in_canonical_fields_across_pages(
    erp: ErpUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert use_small_pages(erp, monkeypatch)
    read = await read_all(erp, Entity.SUPPLIERS)
    for seed in SEEDED_SUPPLIERS:
        record = read[seed["erp_supplier_id"]]
        bank = seed["bank_account"]
        tax_id = seed["tax_id"]["value"].replace("-", "")
        assert normalise(values(record)) == normalise({
            "legal_name": seed["legal_name"], "dba_name": seed.get("dba_name"), "tax_id": tax_id,
            "status": STATUSES[seed["status"]], "diversity": seed.get("diversity"), "address": seed["remit_to"],
            "payment_terms": seed["payment_terms"],
            "bank_account": f"routing ..{bank['routing_number'][-4:]} account ..{bank['account_number'][-4:]}",
            "erp_supplier_id": seed["erp_supplier_id"], "unspsc_categories": seed["categories"],
        })  # fmt: skip
        assert record.match_keys == {"tax_id": tax_id}
        number = int(seed["erp_supplier_id"].removeprefix("SUP-"))
        assert record.links == ((MasterSystem.VENDOR_MANAGEMENT, f"VM-{100000 + number}"),)
        assert all(value.updated_at is not None and value.updated_at.tzinfo for value in record.fields.values())


async def test_seeded_items_are_read_in_canonical_fields_across_pages(
    erp: ErpUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert use_small_pages(erp, monkeypatch)
    read = await read_all(erp, Entity.ITEMS)
    for seed in SEEDED_ITEMS:
        record = read[seed["item_id"]]
        fields = values(record)
        assert fields["description"] == seed["description"]
        assert fields["base_unit"] == seed["base_uom"]
        assert fields["unspsc"] == (None if erp.name == "tryton" else seed["unspsc"])
        assert fields["gtin"] == seed["gtin"]
        assert record.match_keys == {k: v for k, v in {"item_id": seed["item_id"], "gtin": fields["gtin"]}.items() if v}


# --- writing --------------------------------------------------------------------------------


async def test_supplier_corrections_are_written_and_read_back(erp: ErpUnderTest, ids: TestIds) -> None:
    supplier_id = await new_supplier(erp, ids)
    changes = {
        "legal_name": f"Master {ids.token()} Surgical Holdings LLC",
        "dba_name": "Harbor Point Surgical",
        "payment_terms": "NET60",
        "unspsc_categories": ["42142523", "42131702"],
        "diversity": ["small_business", "veteran_owned"],
        "address": ADDRESS,
    }
    await erp.master.write(Entity.SUPPLIERS, "golden-1", supplier_id, changes, ids.key("sync"))

    fields = await read_one(erp, Entity.SUPPLIERS, supplier_id)
    assert {name: fields[name] for name in changes} == {name: normalise(value) for name, value in changes.items()}
    assert fields["status"] == "active"

    moved = {**ADDRESS, "line1": "9 Fells Point Sq", "line2": None}
    await erp.master.write(Entity.SUPPLIERS, "golden-1", supplier_id, {"address": moved}, ids.key("sync"))
    assert (await read_one(erp, Entity.SUPPLIERS, supplier_id))["address"] == normalise(moved)


async def test_a_hold_is_written_through_status_and_released(erp: ErpUnderTest, ids: TestIds) -> None:
    supplier_id = await new_supplier(erp, ids)
    await erp.master.write(Entity.SUPPLIERS, "golden-2", supplier_id, {"address": ADDRESS}, ids.key("sync"))

    await erp.master.write(Entity.SUPPLIERS, "golden-2", supplier_id, {"status": "hold"}, ids.key("sync"))
    assert (await read_one(erp, Entity.SUPPLIERS, supplier_id))["status"] == "hold"
    held = await erp.suppliers.get_supplier(supplier_id)
    assert (held.status, held.hold_reason) == (ErpSupplierStatus.ON_HOLD, HOLD_REASON)

    await erp.master.write(Entity.SUPPLIERS, "golden-2", supplier_id, {"status": "active"}, ids.key("sync"))
    assert (await read_one(erp, Entity.SUPPLIERS, supplier_id))["status"] == "active"

    await erp.master.write(Entity.SUPPLIERS, "golden-2", supplier_id, {"status": "inactive"}, ids.key("sync"))
    fields = await read_one(erp, Entity.SUPPLIERS, supplier_id)
    assert (fields["status"], fields["address"]) == ("inactive", normalise(ADDRESS))


async def test_item_fields_are_written_and_read_back(erp: ErpUnderTest, ids: TestIds) -> None:
    seed = SEEDED_ITEMS[-1]
    changes = {"description": f"{seed['description']} ({ids.token()})", "gtin": seed["gtin"]}
    try:
        await erp.master.write(Entity.ITEMS, seed["item_id"], seed["item_id"], changes, ids.key("sync"))
        fields = await read_one(erp, Entity.ITEMS, seed["item_id"])
        assert {name: fields[name] for name in changes} == changes
        assert fields["base_unit"] == seed["base_uom"]
    finally:  # seeded data is shared by the session's tests
        restore = {"description": seed["description"]}
        await erp.master.write(Entity.ITEMS, seed["item_id"], seed["item_id"], restore, ids.key("restore"))
    assert (await read_one(erp, Entity.ITEMS, seed["item_id"]))["description"] == seed["description"]


# --- what each ERP writes -------------------------------------------------------------------


async def test_can_write_answers_what_write_takes(erp: ErpUnderTest, ids: TestIds) -> None:
    master = erp.master
    assert master.holds(Entity.SUPPLIERS) and master.holds(Entity.ITEMS) and not master.holds(Entity.CONTRACTS)
    assert all(master.can_write(Entity.SUPPLIERS, name) for name in SUPPLIER_WRITES)
    assert all(master.can_write(Entity.ITEMS, name) for name in ("description", "gtin"))
    for entity, names in NOT_WRITTEN.items():
        assert not any(master.can_write(entity, name) for name in names), entity
    tryton_refuses = {name for name in SANDBOX_ONLY_ITEM_WRITES if not master.can_write(Entity.ITEMS, name)}
    assert tryton_refuses == (SANDBOX_ONLY_ITEM_WRITES if erp.name == "tryton" else set())

    supplier_id = await new_supplier(erp, ids)
    with pytest.raises(BusinessRuleError) as refused:
        await master.write(Entity.SUPPLIERS, "golden-3", supplier_id, {"tax_id": "981234567"}, ids.key("sync"))
    assert refused.value.code == "field_not_writable"
    with pytest.raises(BusinessRuleError) as refused:
        await master.write(Entity.SUPPLIERS, "golden-3", None, {"legal_name": "Anyone LLC"}, ids.key("sync"))
    assert refused.value.code == "field_not_writable"  # suppliers are made by onboarding, not by a sync
    for name in tryton_refuses:
        with pytest.raises(BusinessRuleError) as refused:
            await master.write(Entity.ITEMS, "ITM-1001", "ITM-1001", {name: "CS"}, ids.key("sync"))
        assert refused.value.code == "field_not_writable"
    with pytest.raises(NotFoundError):
        await master.write(Entity.SUPPLIERS, "golden-4", "SUP-9999", {"legal_name": "Nobody LLC"}, ids.key("sync"))


async def test_an_unknown_status_is_refused_before_anything_is_written(erp: ErpUnderTest, ids: TestIds) -> None:
    supplier_id = await new_supplier(erp, ids)
    before = await read_one(erp, Entity.SUPPLIERS, supplier_id)
    changes = {"legal_name": f"Renamed {ids.token()} LLC", "status": "suspended"}
    with pytest.raises(BusinessRuleError) as refused:
        await erp.master.write(Entity.SUPPLIERS, "golden-4", supplier_id, changes, ids.key("sync"))
    assert refused.value.code == "invalid_status"
    assert "suspended" in str(refused.value)
    assert await read_one(erp, Entity.SUPPLIERS, supplier_id) == before
