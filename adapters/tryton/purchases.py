"""Tryton purchases as our ERP purchase orders: the shared look-ups (`TrytonBooks`), the
SupplyBridge note kept on Tryton records, and the PO reads and changes. The mapping is
documented in adapters/tryton/procurement.py.

The note is a block at the end of a record's `comment` text: a readable summary line for
Tryton users, then a `--- supplybridge ---` marker and one JSON object. Text a user writes
above the marker is kept; the block below it is ours and rewritten whole.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.errors import BusinessRuleError, NotFoundError
from adapters.tryton.rpc import SYSTEM, TrytonRpc, decimal_quantity

NOTE_MARKER = "--- supplybridge ---"
PURCHASE_FIELDS = ["reference", "number", "state", "party.code", "purchase_date", "currency.code", "comment"]
LINE_FIELDS = ["sequence", "product.code", "quantity", "unit.symbol", "unit_price", "delivery_date"]
EDITABLE_STATES = ("draft", "quotation")  # Tryton only lets draft lines change; a quotation goes back to draft


def refused(code: str, message: str, status: int = 409) -> BusinessRuleError:
    return BusinessRuleError(SYSTEM, code, message, status=status)


def read_note(comment: str | None) -> dict[str, Any]:
    """Our JSON block from a `comment`, or {} when the record has none."""
    if not comment or NOTE_MARKER not in comment:
        return {}
    try:
        found = json.loads(comment.split(NOTE_MARKER, 1)[1])
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def write_note(comment: str | None, note: Mapping[str, Any], summary: str) -> str:
    """`comment` with our block (and its summary line) replaced by `note`; user text above stays."""
    own_text = (comment or "").split(NOTE_MARKER, 1)[0]
    own_text = "\n".join(line for line in own_text.splitlines() if not line.startswith("SupplyBridge:")).strip()
    head = f"{own_text}\n" if own_text else ""
    return f"{head}SupplyBridge: {summary}\n{NOTE_MARKER}\n{json.dumps(note, sort_keys=True, default=str)}"


def related(row: Mapping[str, Any], field: str) -> Any:
    """A dotted field of a `search_read` row (`party.code` arrives as `{"party.": {"code": ...}}`)."""
    head, _, tail = field.partition(".")
    if not tail:
        return row.get(head)
    value = row.get(f"{head}.")
    return related(value, tail) if isinstance(value, Mapping) else None


def now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class TrytonBooks:
    """One adapter's calls to Tryton with the user's preferences as context (the company, as
    a Tryton client sends them), and the look-ups every part of the adapter shares."""

    def __init__(self, rpc: TrytonRpc) -> None:
        self.rpc = rpc
        self._context: dict[str, Any] | None = None
        self._cache: dict[tuple[str, str], int] = {}

    async def call(self, model: str, method: str, *args: Any) -> Any:
        if self._context is None:
            preferences = await self.rpc.call("res.user", "get_preferences", True)
            self._context = {k: v for k, v in dict(preferences).items() if k not in self.rpc.context}
        return await self.rpc.call(model, method, *args, context=self._context)

    async def search_read(
        self, model: str, domain: Sequence[Any], fields: Sequence[str], *, order: Sequence[Any] | None = None
    ) -> list[dict[str, Any]]:
        return list(await self.call(model, "search_read", list(domain), 0, None, list(order or []), list(fields)))

    async def create(self, model: str, values: Sequence[Mapping[str, Any]]) -> list[int]:
        return list(await self.call(model, "create", [dict(v) for v in values]))

    async def write(self, model: str, ids: Sequence[int], values: Mapping[str, Any]) -> None:
        await self.call(model, "write", list(ids), dict(values))

    async def button(self, model: str, name: str, ids: Sequence[int]) -> None:
        await self.call(model, name, list(ids))

    async def one_id(self, model: str, domain: Sequence[Any]) -> int | None:
        found = await self.call(model, "search", list(domain), 0, 1, None)
        return int(found[0]) if found else None

    async def cached_id(self, model: str, field: str, value: str) -> int | None:
        key = (model, f"{field}={value}")
        if key not in self._cache:
            found = await self.one_id(model, [(field, "=", value)])
            if found is None:
                return None
            self._cache[key] = found
        return self._cache[key]

    async def party(self, supplier_id: str) -> dict[str, Any]:
        found = await self.search_read(
            "party.party", [("code", "=", supplier_id)], ["id", "addresses", "account_payable"]
        )
        if not found:
            raise refused("unknown_supplier", f"supplier_id: supplier {supplier_id} does not exist", 422)
        return found[0]

    async def payable_account(self, party: Mapping[str, Any]) -> int | None:
        """The party's payable account, else the configuration's default (Tryton's rule)."""
        if party.get("account_payable"):
            return int(party["account_payable"])
        [config] = await self.search_read("account.configuration", [], ["default_account_payable"])
        return config.get("default_account_payable")

    async def expense_account(self, product: Mapping[str, Any]) -> int | None:
        """The product's accounting category expense account, else the first expense account."""
        account = related(product, "template.account_category.account_expense")
        return account or await self.one_id("account.account", [("type.expense", "=", True)])

    async def product(self, item_id: str) -> dict[str, Any]:
        found = await self.search_read(
            "product.product",
            [("code", "=", item_id)],
            ["id", "default_uom.category", "template.account_category.account_expense", "rec_name"],
        )
        if not found:
            raise refused("unknown_item", f"item {item_id} is not a Tryton product", 422)
        return found[0]

    async def unit(self, product: Mapping[str, Any], symbol: str) -> int:
        """The uom with `symbol` in the product's default-uom category."""
        category = related(product, "default_uom.category")
        key = ("product.uom", f"{category}:{symbol}")
        if key not in self._cache:
            found = await self.one_id("product.uom", [("category", "=", category), ("symbol", "=", symbol)])
            if found is None:
                raise refused("unknown_uom", f"item {product.get('rec_name')} has no unit {symbol}", 422)
            self._cache[key] = found
        return self._cache[key]

    # -- purchases ---------------------------------------------------------------------------------

    async def find_purchase(self, po_number: str) -> dict[str, Any] | None:
        found = await self.search_read(
            "purchase.purchase", [("reference", "=", po_number)], ["id", *PURCHASE_FIELDS], order=[("id", "ASC")]
        )
        return found[0] if found else None

    async def require_purchase(self, po_number: str) -> dict[str, Any]:
        found = await self.find_purchase(po_number)
        if found is None:
            raise NotFoundError(SYSTEM, f"purchase order {po_number} does not exist")
        return found

    async def purchase_lines(self, purchase_id: int) -> list[dict[str, Any]]:
        return await self.search_read(
            "purchase.line", [("purchase", "=", purchase_id), ("type", "=", "line")], ["id", *LINE_FIELDS]
        )

    async def received_shipments(self, purchase_id: int) -> list[int]:
        [row] = await self.search_read("purchase.purchase", [("id", "=", purchase_id)], ["shipments"])
        ids = list(row.get("shipments") or [])
        if not ids:
            return []
        return list(await self.call("stock.shipment.in", "search", [("id", "in", ids), ("state", "=", "done")]))

    async def save_note(self, model: str, record: Mapping[str, Any], note: Mapping[str, Any], summary: str) -> None:
        await self.write(model, [record["id"]], {"comment": write_note(record.get("comment"), note, summary)})


def po_status(purchase: Mapping[str, Any]) -> str:
    note = read_note(purchase.get("comment"))
    if purchase["state"] == "cancelled" or note.get("cancelled"):
        return "cancelled"
    if purchase["state"] == "done" or note.get("closed"):
        return "closed"
    return "open"


def po_summary(note: Mapping[str, Any], status: str) -> str:
    hold = note.get("hold")
    held = f"; on hold ({hold['kind']}): {hold['reason']}" if hold else ""
    reason = f" ({note['status_reason']})" if note.get("status_reason") else ""
    return f"PO {note.get('po_number')} {status}{reason}{held}"


def erp_po_body(purchase: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The `ErpPurchaseOrder` fields from the purchase, its lines and our note."""
    note = read_note(purchase.get("comment"))
    extras: dict[str, Any] = note.get("lines", {})
    shown = []
    for line in sorted(lines, key=lambda row: row.get("sequence") or 0):
        extra = extras.get(str(line["sequence"]), {})
        cancelled = extra.get("status") == "cancelled"
        shown.append(
            {
                "line": line["sequence"],
                "item_id": related(line, "product.code"),
                "quantity": Decimal(extra["quantity"]) if cancelled else decimal_quantity(line["quantity"]),
                "uom": related(line, "unit.symbol"),
                "unit_price": line["unit_price"],
                "need_by": extra.get("need_by") or line.get("delivery_date"),
                "status": "cancelled" if cancelled else "open",
                "promised_date": extra.get("promised_date"),
                "backordered_quantity": extra.get("backordered_quantity"),
            }
        )
    return {
        "po_number": purchase["reference"],
        "supplier_id": related(purchase, "party.code"),
        "contract_ref": note.get("contract_ref"),
        "ship_to": note.get("ship_to"),
        "bill_to": note.get("bill_to"),
        "currency": related(purchase, "currency.code") or "USD",
        "order_date": purchase.get("purchase_date"),
        "status": po_status(purchase),
        "hold": note.get("hold"),
        "status_reason": note.get("status_reason"),
        "lines": shown,
    }
