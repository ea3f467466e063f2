"""The master-data adapters against the sandbox: each system read as canonical fields, the seed's
suppliers matched across the four systems, and a correction written back and read again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from adapters.errors import AdapterError
from adapters.http import SystemClient
from adapters.master_data_http import (
    HttpAnalyticsMaster,
    HttpContractsMaster,
    HttpErpMaster,
    HttpVendorManagementMaster,
)
from domain.master_data.matching import SystemRecord, match_records
from domain.master_data.policy import Entity, MasterSystem, default_policy
from domain.master_data.survivorship import Action, reconcile
from tests.support.sandbox import RunningSandbox

VM, ERP, CON, AN = (MasterSystem.VENDOR_MANAGEMENT, MasterSystem.ERP, MasterSystem.CONTRACTS,
                    MasterSystem.ANALYTICS)  # fmt: skip
SYSTEMS = {VM: ("vendor-management", HttpVendorManagementMaster), ERP: ("erp", HttpErpMaster),
           CON: ("contracts", HttpContractsMaster), AN: ("analytics", HttpAnalyticsMaster)}  # fmt: skip
Adapters = dict[MasterSystem, HttpVendorManagementMaster | HttpErpMaster | HttpContractsMaster | HttpAnalyticsMaster]


@pytest.fixture
async def adapters(sandbox: RunningSandbox) -> AsyncIterator[Adapters]:
    clients = {s: SystemClient(name, sandbox.system_url(name), token=sandbox.token, attempts=1)
               for s, (name, _) in SYSTEMS.items()}  # fmt: skip
    yield {s: SYSTEMS[s][1](client) for s, client in clients.items()}
    for client in clients.values():
        await client.aclose()


async def read_all(adapters: Adapters, entity: Entity) -> list[SystemRecord]:
    return [record for adapter in adapters.values() async for record in adapter.read(entity)]


async def test_the_seed_suppliers_match_across_the_four_systems(adapters: Adapters) -> None:
    records = await read_all(adapters, Entity.SUPPLIERS)
    matches = match_records(records, [], ["tax_id"])

    lakeshore = next(g for g in matches.groups if g.get(ERP) and g[ERP].local_id == "SUP-0001")
    assert {s: r.local_id for s, r in lakeshore.items()} == {
        VM: "VM-100001",
        ERP: "SUP-0001",
        CON: "CS-0001",
        AN: "VM-100001",
    }
    assert lakeshore[VM].fields["bank_account"].value == lakeshore[ERP].fields["bank_account"].value
    assert lakeshore[VM].fields["address"].value == lakeshore[ERP].fields["address"].value
    assert matches.rejected == []


async def test_a_legal_name_changed_in_the_erp_is_drift_the_vendor_system_settles(
    adapters: Adapters, sandbox: RunningSandbox
) -> None:
    sandbox.admin("PATCH", "/erp/suppliers/SUP-0001", {"legal_name": "LAKESHORE MED PRODUCTS"})
    group = next(g for g in match_records(await read_all(adapters, Entity.SUPPLIERS), [], ["tax_id"]).groups
                 if g[VM].local_id == "VM-100001")  # fmt: skip

    result = reconcile(default_policy().entities[Entity.SUPPLIERS], {s: r.fields for s, r in group.items()})

    (fix,) = [d for d in result.drifts if d.system is ERP and d.field == "legal_name"]
    assert (fix.action, fix.after) == (Action.CORRECT, "Lakeshore Medical Products Inc")
    await adapters[ERP].write(Entity.SUPPLIERS, "VM-100001", "SUP-0001", {"legal_name": fix.after}, "t-1")
    assert sandbox.admin("GET", "/erp/suppliers/SUP-0001")["legal_name"] == "Lakeshore Medical Products Inc"


async def test_a_status_correction_holds_the_supplier_in_the_erp(adapters: Adapters, sandbox: RunningSandbox) -> None:
    await adapters[ERP].write(Entity.SUPPLIERS, "VM-100002", "SUP-0002", {"status": "hold"}, "t-2")

    assert sandbox.admin("GET", "/erp/suppliers/SUP-0002")["status"] == "on_hold"


async def test_items_are_read_from_the_item_master_the_contract_system_and_analytics(adapters: Adapters) -> None:
    records = await read_all(adapters, Entity.ITEMS)
    matches = match_records(records, [], ["item_id", "gtin"])

    glove = next(g for g in matches.groups if g[ERP].local_id == "ITM-1001")
    assert set(glove) == {ERP, CON, AN}
    result = reconcile(default_policy().entities[Entity.ITEMS], {s: r.fields for s, r in glove.items()})
    assert result.in_sync, result.drifts


async def test_a_field_a_system_does_not_take_is_refused_naming_it(adapters: Adapters) -> None:
    with pytest.raises(AdapterError, match=r"does not take suppliers fields \['tax_id'\]"):
        await adapters[CON].write(Entity.SUPPLIERS, "VM-100002", "CS-0002", {"tax_id": "1"}, "t-3")


async def test_the_erp_listing_expands_only_known_children(sandbox: RunningSandbox) -> None:
    response = httpx.get(f"{sandbox.url}/erp/suppliers", params={"expand": "sites,owners"}, headers=sandbox.headers)
    assert response.status_code == 422 and "query.expand: unknown owners" in response.text


async def test_synthetic_drift_is_found_exactly_where_it_was_made(adapters: Adapters, sandbox: RunningSandbox) -> None:
    report = sandbox.admin("POST", "/admin/synthetic", {"suppliers": 60, "drift_rate": 0.25, "seed": 3})
    matches = match_records(await read_all(adapters, Entity.SUPPLIERS), [], ["tax_id"])
    policy = default_policy().entities[Entity.SUPPLIERS]

    drifted = {}
    for group in matches.groups:
        result = reconcile(policy, {s: r.fields for s, r in group.items()})
        if not result.in_sync:
            drifted[group[VM].local_id] = {(d.system.value, d.field, d.action.value) for d in result.drifts}

    expected = {
        "erp_legal_name": {("erp", "legal_name", "correct")},
        "vm_payment_terms": {("vendor_management", "payment_terms", "correct")},
        "contracts_legal_name": {("contracts", "legal_name", "correct")},
        "erp_still_active": {("erp", "status", "correct"), ("analytics", "status", "correct")},
        "analytics_missing": {("analytics", "*", "create")},
    }
    assert drifted == {d["vendor_id"]: expected[d["kind"]] for d in report["drifted"]}
