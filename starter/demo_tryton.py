"""`supplybridge demo --erp tryton`: after the supplier and PO scenarios, what Tryton itself holds,
read over JSON-RPC with the worker's settings (no adapter in between): one party per onboarded
supplier, one purchase per released PO with its state, its incoming shipments and the supplier
invoices that reference the example invoices. Each row names Tryton's record ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.tryton.rpc import TrytonRpc
from runtime.erp_choice import tryton_rpc
from starter.demo_report import DemoProgress, Row
from starter.stack import EmbeddedStack

# The example POs the demo releases to the ERP (po-expired-contract.json is never released).
RELEASED_POS = ("PO-2026-000451", "PO-2026-000452")
INVOICES = ("NSS-889120", "NSS-889121", "NSS-889122")


async def tryton_records(stack: EmbeddedStack, progress: DemoProgress, supplier_ids: Sequence[str]) -> None:
    settings = stack.settings
    settings = settings.model_copy(update={"tryton_faults": None})  # the read-back is not a rehearsal
    async with tryton_rpc(settings) as rpc:
        for code in supplier_ids:
            progress.add(await _party_row(rpc, code))
        for number in RELEASED_POS:
            progress.add(await _purchase_row(rpc, number))
        invoices = await rpc.search_read(
            "account.invoice", [("reference", "in", list(INVOICES)), ("type", "=", "in")], ["id", "reference", "state"]
        )
        detail = ", ".join(f"{row['reference']} = invoice {row['id']} ({row['state']})" for row in invoices)
        ok = len({row["reference"] for row in invoices}) == len(invoices) and bool(invoices)
        progress.add(_row("Tryton supplier invoices", f"{len(invoices)} invoices", detail or "none", ok))


async def _party_row(rpc: TrytonRpc, code: str) -> Row:
    found = await rpc.search_read("party.party", [("code", "=", code)], ["id", "name"])
    detail = "; ".join(f"party {row['id']} {row['name']}" for row in found) or "no party"
    return _row(f"Tryton party {code}", f"{len(found)} party", detail, len(found) == 1)


async def _purchase_row(rpc: TrytonRpc, number: str) -> Row:
    found = await rpc.search_read(
        "purchase.purchase", [("reference", "=", number)], ["id", "number", "state", "shipments"]
    )
    if len(found) != 1:
        return _row(f"Tryton purchase {number}", f"{len(found)} purchases", "expected exactly one", False)
    purchase = found[0]
    shipments: list[dict[str, Any]] = []
    if purchase["shipments"]:
        shipments = await rpc.search_read(
            "stock.shipment.in", [("id", "in", purchase["shipments"])], ["id", "number", "state"]
        )
    received = ", ".join(f"shipment {s['number'] or s['id']} ({s['state']})" for s in shipments) or "nothing received"
    detail = f"purchase {purchase['id']} {purchase['number'] or ''} {purchase['state']}; {received}"
    return _row(f"Tryton purchase {number}", purchase["state"], detail, True)


def _row(name: str, outcome: str, detail: str, ok: bool) -> Row:
    return Row(name, "", outcome, detail, ok, "")
