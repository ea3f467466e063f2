"""Tryton as the ERP, end to end as a user runs it: `supplybridge up --erp tryton` with a fresh
state dir (trytond started by `up` from the cached bootstrap), suppliers onboarded and a PO driven
to closed through the CLI, with latency and lost answers injected into the worker's calls to Tryton
(`SUPPLYBRIDGE_TRYTON_FAULTS`). The
records are read back from Tryton itself over JSON-RPC: exactly one party per supplier and one
purchase per PO, its shipments done, the supplier invoice posted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.tryton.rpc import TrytonRpc
from runtime.ports import free_port
from runtime.settings import DEV_TRYTON_PASSWORD
from tests.e2e.conftest import Stack, eventually, running_stack
from tests.examples import EXAMPLES, example_json
from tests.support.tryton import TRYTON_MISSING, tryton_available

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not tryton_available(), reason=TRYTON_MISSING)]
# Faults in every worker call to Tryton: 100 ms of latency, and a quarter of the calls lose their
# answer after Tryton has done the work (the worker retries; idempotency keys must find the record).
FAULTY_ERP = "latency_ms=100,error_rate=0.25,error_phase=after"


@pytest.fixture(scope="module")
def tryton_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    port = free_port()
    env = {"SUPPLYBRIDGE_TRYTON_PORT": str(port), "SUPPLYBRIDGE_TRYTON_FAULTS": FAULTY_ERP}
    state = tmp_path_factory.mktemp("state")
    with running_stack(state, args=["--erp", "tryton"], env=env, stop_timeout=90) as stack:
        yield stack, f"http://127.0.0.1:{port}"


def tryton(url: str, model: str, domain: list[Any], fields: list[str]) -> list[dict[str, Any]]:
    """Read from Tryton itself (no fault injection, no adapter)."""

    async def read() -> list[dict[str, Any]]:
        async with TrytonRpc(url, "supplybridge", user="admin", password=DEV_TRYTON_PASSWORD) as rpc:
            return await rpc.search_read(model, domain, fields)

    return asyncio.run(read())


def write(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def test_suppliers_are_onboarded_into_tryton_once_each(tryton_stack: tuple[Stack, str], tmp_path: Path) -> None:
    stack, url = tryton_stack
    new_supplier = json.loads((EXAMPLES / "suppliers" / "new-supplier.json").read_text())
    suppliers = {
        "45-2873311": {**new_supplier, "source": {"system": "vendor_management", "id": "VM-310001"}},
        "45-7712093": {
            **new_supplier,
            "source": {"system": "vendor_management", "id": "VM-310002"},
            "legal_name": "Tidewater Wound Dressings Corp",
            "tax_id": {"kind": "EIN", "value": "45-7712093"},
        },
    }
    codes = {}
    for tax_id, data in suppliers.items():
        code, out = stack.cli("onboard", write(tmp_path, f"{tax_id}.json", data), "--wait", "--timeout", "120")
        assert code == 0 and out["outcome"] == "onboarded", out
        codes[tax_id] = out["result"]["erp_supplier_id"]
        again_code, again = stack.cli("onboard", write(tmp_path, f"{tax_id}.json", data), "--wait")
        assert again_code == 0 and again["result"]["erp_supplier_id"] == codes[tax_id]

    for tax_id, erp_id in codes.items():
        identifiers = tryton(url, "party.identifier", [("code", "=", tax_id.replace("-", ""))], ["party"])
        identifiers += tryton(url, "party.identifier", [("code", "=", tax_id)], ["party"])
        parties = {row["party"] for row in identifiers}
        assert len(parties) == 1, (tax_id, identifiers)  # exactly one party holds the EIN
        [party] = tryton(url, "party.party", [("id", "in", list(parties))], ["code", "addresses"])
        assert party["code"] == erp_id and len(party["addresses"]) >= 1
        accounts = tryton(url, "bank.account", [("owners", "=", party["id"])], ["id"])
        assert len(accounts) == 1, (erp_id, accounts)


def test_a_po_goes_to_closed_with_one_purchase_its_shipments_and_a_posted_invoice(
    tryton_stack: tuple[Stack, str], tmp_path: Path
) -> None:
    stack, url = tryton_stack
    po = "PO-2027-300001"
    data = {**example_json("purchase-orders/po-northgate-gowns.json"), "po_number": po}
    code, out = stack.cli("po", "submit", write(tmp_path, "po.json", data), "--wait")
    assert code == 0 and out["stage"] in ("awaiting_acknowledgement", "open"), out
    eventually(lambda: stack.cli("status", po)[1]["stage"] == "open", timeout=120, what=f"{po} acknowledged")
    for line, quantity in (("1", "20"), ("2", "10")):
        code, out = stack.cli("po", "receive", po, "--line", line, "--quantity", quantity)
        # On a loaded machine the receipt's activity may still be running when the CLI's wait for
        # the update ends: the run has the receipt and applies it.
        assert code == 0 or "still being applied" in str(out.get("error")), out

        def received(line: str = line, quantity: str = quantity) -> bool:
            # no `result` when the run did not answer its status query in time (busy with Tryton)
            lines = (stack.cli("status", po)[1]["result"] or {}).get("lines")
            return bool(lines and lines[int(line) - 1]["received"] == quantity)

        eventually(received, timeout=120, what=f"line {line} received")

    invoice = {**example_json("invoices/inv-clean.json"), "invoice_number": "NSS-930001", "po_number": po}
    code, out = stack.cli("invoice", "submit", write(tmp_path, "invoice.json", invoice))
    assert code == 0 and out["outcome"] == "approved", out
    eventually(lambda: stack.cli("status", po)[1]["outcome"] == "closed", timeout=180, what=f"{po} closed")

    [purchase] = tryton(url, "purchase.purchase", [("reference", "=", po)], ["state", "shipments", "party"])
    assert purchase["state"] in ("processing", "done"), purchase
    shipments = tryton(url, "stock.shipment.in", [("id", "in", purchase["shipments"])], ["state"])
    assert shipments and {s["state"] for s in shipments} == {"done"}, shipments
    invoices = tryton(url, "account.invoice", [("reference", "=", "NSS-930001"), ("type", "=", "in")], ["state"])
    assert [i["state"] for i in invoices] == ["posted"], invoices
