"""TrytonErpMaster and TrytonProbe against a real trytond (this module's own copy of the
bootstrapped database): paging by the constructor's page size, what a Tryton user sees of the
sync's writes, Tryton's own refusals, and the wiring under `SUPPLYBRIDGE_ERP=tryton`
(runtime/erp_choice.py, worker.py). What every ERP shares is in tests/contracts/test_erp_master_data_contract.py.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from activities.alerts import AlertActivities, probe
from activities.master_data import MasterDataActivities
from adapters.errors import BusinessRuleError, NotFoundError
from adapters.http import SystemClient
from adapters.master_data import MasterDataPort
from adapters.master_data_http import HOLD_REASON
from adapters.tryton import parties as p
from adapters.tryton.master_data import TrytonErpMaster
from adapters.tryton.probe import TrytonProbe
from adapters.tryton.rpc import TrytonRpc
from adapters.tryton.suppliers import TrytonErp
from domain.master_data.matching import SystemRecord
from domain.master_data.policy import Entity, MasterSystem
from domain.supplier import ErpSupplierDraft, TaxId, TaxIdKind
from runtime.erp_choice import erp_adapters
from runtime.settings import Settings
from runtime.tryton_server import TrytonEndpoint
from worker import activity_objects

TAX_IDS = (f"97-{n:07d}" for n in itertools.count(1000001))
ADDRESS = {"line1": "77 Harbor Point Blvd", "line2": None, "city": "Baltimore", "state": "MD",
           "postal_code": "21224", "country": "US"}  # fmt: skip


@pytest.fixture
async def rpc(tryton_endpoint: TrytonEndpoint) -> AsyncIterator[TrytonRpc]:
    async with tryton_endpoint.rpc() as session:
        yield session


async def read_all(master: MasterDataPort, entity: Entity) -> dict[str, SystemRecord]:
    return {record.local_id: record async for record in master.read(entity)}


async def new_supplier(rpc: TrytonRpc, name: str) -> str:
    draft = ErpSupplierDraft(
        legal_name=name, tax_id=TaxId(kind=TaxIdKind.EIN, value=next(TAX_IDS)), payment_terms="NET30"
    )
    return (await TrytonErp(rpc).create_supplier(draft, idempotency_key=f"create-{name}")).erp_supplier_id


async def party(rpc: TrytonRpc, code: str) -> dict[str, Any]:
    fields = ["id", "name", "identifiers.code", "categories.name", "addresses.postal_code", "addresses.invoice"]
    return (await rpc.search_read("party.party", [("code", "=", code)], fields, context={"active_test": False}))[0]


async def test_reads_in_pages_of_the_constructor_size(rpc: TrytonRpc, monkeypatch: pytest.MonkeyPatch) -> None:
    pages: list[tuple[str, int, int]] = []
    search_read = rpc.search_read

    async def counted(model: str, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        found = await search_read(model, *args, **kwargs)
        if model in ("party.party", "product.product"):
            pages.append((model, kwargs["offset"], len(found)))
        return found

    monkeypatch.setattr(rpc, "search_read", counted)
    master = TrytonErpMaster(rpc, page_size=2)
    suppliers = await read_all(master, Entity.SUPPLIERS)
    items = await read_all(master, Entity.ITEMS)

    assert {f"SUP-000{n}" for n in range(1, 7)} <= set(suppliers)
    assert {f"ITM-100{n}" for n in range(1, 8)} <= set(items)
    for model, records in (("party.party", suppliers), ("product.product", items)):
        read = [(offset, count) for name, offset, count in pages if name == model]
        assert [offset for offset, _ in read] == list(range(0, 2 * len(read), 2))
        assert len(read) > 2 and sum(count for _, count in read) == len(records)
    lakeshore = {name: value.value for name, value in suppliers["SUP-0001"].fields.items()}
    assert lakeshore["address"] == {"line1": "400 N Lakeshore Dr", "line2": None, "city": "Chicago", "state": "IL",
                                    "postal_code": "60611", "country": "US"}  # fmt: skip
    assert lakeshore["bank_account"] == "routing ..0013 account ..0017"
    assert lakeshore["tax_id"] == suppliers["SUP-0001"].match_keys["tax_id"] == "364412098"
    assert suppliers["SUP-0005"].fields["status"].value == "inactive"  # archived parties are read too
    gloves = {name: value.value for name, value in items["ITM-1001"].fields.items()}
    assert gloves == {"description": "Exam glove, nitrile, powder-free, medium", "gtin": "10888881001012",
                      "base_unit": "BX", "unspsc": None}  # fmt: skip


async def test_what_a_tryton_user_sees_of_the_sync_writes(rpc: TrytonRpc) -> None:
    master = TrytonErpMaster(rpc)
    code = await new_supplier(rpc, "Seen By Users Medical LLC")
    changes = {"legal_name": "Seen By Users Medical Holdings LLC", "dba_name": "Seen Medical", "address": ADDRESS}
    await master.write(Entity.SUPPLIERS, "golden-a", code, changes, "sync-1:erp:a")
    await master.write(Entity.SUPPLIERS, "golden-a", code, {"dba_name": "Seen Surgical", "status": "hold"}, "sync-2")

    seen = await party(rpc, code)
    codes = [row["code"] for row in seen["identifiers."]]
    assert seen["name"] == "Seen By Users Medical Holdings LLC"
    assert [c for c in codes if c.startswith(p.DBA_PREFIX)] == ["dba:Seen Surgical"]  # replaced, not added
    assert f"{p.HOLD_PREFIX}{HOLD_REASON}" in codes
    assert p.HOLD_CATEGORY in [row["name"] for row in seen["categories."]]
    assert [(a["postal_code"], a["invoice"]) for a in seen["addresses."]] == [("MD 21224", True)]
    notes = await rpc.search_read("ir.note", [("resource", "=", f"party.party,{seen['id']}")], ["message"])
    assert [n["message"] for n in notes] == [f"On hold: {HOLD_REASON}\n(SupplyBridge request sync-2:status)"]

    found = await rpc.search_read("product.identifier", [("product.code", "=", "ITM-1002")], ["type", "code"])
    assert [(row["type"], row["code"]) for row in found] == [("ean", "10888881002026")]  # seeded
    await master.write(Entity.ITEMS, "ITM-1002", "ITM-1002", {"gtin": "10888881002033"}, "sync-3")
    await master.write(Entity.ITEMS, "ITM-1002", "ITM-1002", {"gtin": "10888881002033"}, "sync-3")  # a replay
    found = await rpc.search_read("product.identifier", [("product.code", "=", "ITM-1002")], ["type", "code"])
    assert [(row["type"], row["code"]) for row in found] == [("ean", "10888881002033")]  # replaced, not added


async def test_refusals_name_the_field_and_none_changes_nothing(rpc: TrytonRpc) -> None:
    master = TrytonErpMaster(rpc)
    code = await new_supplier(rpc, "Refused Values Medical LLC")
    refusals = [
        (Entity.SUPPLIERS, code, {"payment_terms": "NET7"}, "unknown_payment_terms"),
        (Entity.SUPPLIERS, code, {"address": {**ADDRESS, "city": ""}}, "invalid_address"),
        (Entity.SUPPLIERS, code, {"status": "suspended"}, "invalid_status"),
        (Entity.ITEMS, "ITM-1003", {"gtin": "10888881003031"}, "invalid_gtin"),  # a wrong check digit
        (Entity.ITEMS, "ITM-1003", {"base_unit": "BX"}, "field_not_writable"),
    ]
    for entity, local_id, changes, reason in refusals:
        with pytest.raises(BusinessRuleError) as refused:
            await master.write(entity, local_id, local_id, changes, "sync-r")
        assert refused.value.code == reason, changes
    with pytest.raises(BusinessRuleError, match="invalid city"):
        await master.write(Entity.SUPPLIERS, code, code, {"address": {**ADDRESS, "city": ""}}, "sync-r")
    with pytest.raises(NotFoundError):
        await master.write(Entity.ITEMS, "ITM-9999", "ITM-9999", {"description": "Nothing"}, "sync-r")

    before = (await read_all(master, Entity.SUPPLIERS))[code]
    await master.write(Entity.SUPPLIERS, code, code, {"legal_name": None, "dba_name": None}, "sync-n")
    after = (await read_all(master, Entity.SUPPLIERS))[code]
    assert {k: v.value for k, v in after.fields.items()} == {k: v.value for k, v in before.fields.items()}


async def test_under_tryton_the_worker_syncs_and_probes_tryton(tryton_endpoint: TrytonEndpoint) -> None:
    """runtime/erp_choice.py gives worker.py the ERP's master data and probe; the sandbox's `/erp`
    (here a port nothing listens on) is never asked."""
    settings = Settings(erp="tryton", tryton_url=tryton_endpoint.url, tryton_database=tryton_endpoint.database,
                        tryton_user=tryton_endpoint.user, tryton_password=tryton_endpoint.password)  # fmt: skip
    now = datetime.now(UTC)
    async with SystemClient("erp", "http://127.0.0.1:9", token="unused", attempts=1) as sandbox_erp:
        async with erp_adapters(settings, sandbox_erp) as chosen:
            assert isinstance(chosen.master, TrytonErpMaster) and isinstance(chosen.probe, TrytonProbe)
            assert "SUP-0001" in await read_all(chosen.master, Entity.SUPPLIERS)
            checked = await probe(chosen.probe, now)
            assert (checked.system, checked.ok) == ("erp", True)
        wrong = settings.model_copy(update={"tryton_password": SecretStr("not-it")})
        async with erp_adapters(wrong, sandbox_erp) as chosen:
            refused = await probe(chosen.probe, now)
    assert not refused.ok and refused.error is not None and refused.error.startswith("erp refused us")


async def test_the_worker_wires_tryton_into_the_sync_and_the_probes(
    tryton_endpoint: TrytonEndpoint, tmp_path: Path
) -> None:
    """worker.py: the sync's ERP system and the one "erp" probe are Tryton's; the other systems
    stay on their sandbox clients."""
    settings = Settings(environment="development", state_dir=tmp_path, erp="tryton", tryton_url=tryton_endpoint.url,
                        tryton_database=tryton_endpoint.database, tryton_password=tryton_endpoint.password)  # fmt: skip
    async with activity_objects(settings) as activities:
        sync = next(a for a in activities if isinstance(a, MasterDataActivities))
        alerts = next(a for a in activities if isinstance(a, AlertActivities))
        assert isinstance(sync._systems[MasterSystem.ERP], TrytonErpMaster)
        systems = sorted(target.system for target in alerts._probes)
        assert [type(t) for t in alerts._probes if t.system == "erp"] == [TrytonProbe]
        assert systems == sorted(["erp", "screening", "contracts", "vendor_management", "inventory", "vendor_channel",
                                  "ap", "analytics"])  # fmt: skip
