"""The master data a fresh Tryton database gets before it is our ERP, all over JSON-RPC
(`TrytonRpc`; trytond is never imported). Used once per template by runtime/tryton_bootstrap.py.

What it makes (the contract the Tryton adapters rely on):
- USD (created: the currency module ships no currencies) and the company party
  "SupplyBridge Health" with company.company in USD; the admin user works in it.
- The chart of accounts from Tryton's universal English template (`account.create_chart`
  wizard), with the default receivable/payable accounts and the category expense/revenue
  accounts it proposes.
- Fiscal years for this year and the next, each with its move and invoice sequences and
  monthly periods (a supplier invoice needs an open period on its date).
- One payment term per code we use ("NET30", "2/10 NET30", ...): one remainder line due after
  the net days. Tryton's payment terms have no early-payment discount: the "2/10" part is
  only in the description.
- The "SupplyBridge" party sequence `SUP-` + 4 digits, continuing after the seeded suppliers.
- Per item: a unit category "<item_id> packs" whose units have our unit codes as `symbol` and
  the item's conversions as `factor` (base unit factor 1), and a purchasable goods product with
  `code` = item_id, default and purchase unit = the item's base unit, in one accounting category
  holding the expense account.
- The suppliers, by `adapters.tryton.suppliers.seed_supplier` (written by the suppliers part;
  while it is missing the suppliers are skipped with a warning, not faked).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from adapters.tryton.rpc import TrytonRpc

log = logging.getLogger(__name__)

COMPANY_NAME = "SupplyBridge Health"
PARTY_SEQUENCE_NAME = "SupplyBridge"
SUPPLIER_CODE_PREFIX = "SUP-"
SUPPLIER_CODE_DIGITS = 4
CHART_TEMPLATE = ("account", "account_template_root_en")
ACCOUNTING_CATEGORY_NAME = "Medical supplies"
# the codes examples/ and the synthetic sandbox data use besides those of the seed suppliers
STANDARD_PAYMENT_TERMS = ("NET15", "NET30", "NET45", "NET60", "NET90", "2/10 NET30")
PAYMENT_TERM_PATTERN = re.compile(r"^(?:(?P<percent>\d+)/(?P<discount_days>\d+) ?)?NET ?(?P<days>\d+)$")
UOM_RATE_DIGITS = 12
# the wizard proposes an account only when the chart has exactly one of the kind; else the
# first by code, as Tryton's own test tools choose
CHART_PROPERTIES: dict[str, list[Any]] = {
    "account_receivable": [("type.receivable", "=", True), ("party_required", "=", True)],
    "account_payable": [("type.payable", "=", True), ("party_required", "=", True)],
    "category_account_expense": [("type.expense", "=", True)],
    "category_account_revenue": [("type.revenue", "=", True)],
}

WizardStep = Callable[[str, Mapping[str, Any]], Awaitable[Any]]


async def populate(
    rpc: TrytonRpc, *, items: Sequence[Mapping[str, Any]], suppliers: Sequence[Mapping[str, Any]], today: dt.date
) -> None:
    """Everything above, in order, into a database where only the modules are activated."""
    company_id = await create_company(rpc)
    rpc.context = dict(await rpc.call("res.user", "get_preferences", True))  # company context from now on
    accounts = await create_chart(rpc, company_id)
    for year in (today.year, today.year + 1):
        await create_fiscal_year(rpc, company_id, year)
    await create_payment_terms(rpc, payment_term_codes(suppliers))
    await create_party_sequence(rpc, next_supplier_number(suppliers))
    category_id = await create_accounting_category(rpc, accounts)
    for item in items:
        await create_product(rpc, item, category_id)
    await seed_suppliers(rpc, suppliers)


async def model_data_id(rpc: TrytonRpc, module: str, fs_id: str) -> int:
    return int(await rpc.call("ir.model.data", "get_id", module, fs_id))


@asynccontextmanager
async def wizard(rpc: TrytonRpc, name: str) -> AsyncIterator[WizardStep]:
    """A Tryton wizard session over JSON-RPC: `wizard.<name>.create` -> session id, then the
    yielded `step(state, data)` runs `execute(session, data, state)` (data: {state: {field:
    value}}), and `delete` at the end."""
    session_id, _start, _end = await rpc.wizard(name, "create")

    async def step(state: str, data: Mapping[str, Any]) -> Any:
        return await rpc.wizard(name, "execute", session_id, dict(data), state)

    try:
        yield step
    finally:
        await rpc.wizard(name, "delete", session_id)


async def create_company(rpc: TrytonRpc) -> int:
    usd = await rpc.search_read("currency.currency", [("code", "=", "USD")], ["id"])
    usd_id = usd[0]["id"] if usd else (await rpc.create("currency.currency", [{
        "name": "U.S. Dollar", "code": "USD", "numeric_code": "840", "symbol": "$",
        "rounding": Decimal("0.01"), "digits": 2,
    }]))[0]  # fmt: skip
    [party_id] = await rpc.create("party.party", [{"name": COMPANY_NAME}])
    [company_id] = await rpc.create("company.company", [{"party": party_id, "currency": usd_id}])
    users = await rpc.search_read("res.user", [("login", "=", rpc.user)], ["id"])
    await rpc.write("res.user", [users[0]["id"]], {"companies": [("add", [company_id])], "company": company_id})
    log.info("tryton bootstrap: company %s (id %s) in USD", COMPANY_NAME, company_id)
    return company_id


async def create_chart(rpc: TrytonRpc, company_id: int) -> dict[str, int]:
    """`account.create_chart` as a user runs it; returns the accounts it proposed."""
    template_id = await model_data_id(rpc, *CHART_TEMPLATE)
    account = {"company": company_id, "account_template": template_id}
    async with wizard(rpc, "account.create_chart") as step:
        await step("account", {})
        proposed = (await step("create_account", {"account": account}))["view"]["defaults"]
        properties: dict[str, Any] = {"company": company_id}
        for name, domain in CHART_PROPERTIES.items():
            properties[name] = proposed.get(name) or await first_account(rpc, company_id, domain)
        await step("create_properties", {"properties": properties})
    log.info("tryton bootstrap: chart of accounts %s", properties)
    return {key: int(value) for key, value in properties.items() if value is not None}


async def first_account(rpc: TrytonRpc, company_id: int, domain: list[Any]) -> int:
    found = await rpc.search_read(
        "account.account",
        [("company", "=", company_id), ("closed", "!=", True), *domain],
        ["id"], limit=1, order=[("code", "ASC")],
    )  # fmt: skip
    if not found:
        raise ValueError(f"the chart of accounts has no account for {domain}")
    return int(found[0]["id"])


async def create_fiscal_year(rpc: TrytonRpc, company_id: int, year: int) -> int:
    move_type = await model_data_id(rpc, "account", "sequence_type_account_move")
    invoice_type = await model_data_id(rpc, "account_invoice", "sequence_type_account_invoice")
    move_sequence, invoice_sequence = await rpc.create("ir.sequence.strict", [
        {"name": f"Account Move {year}", "sequence_type": move_type, "company": company_id},
        {"name": f"Invoice {year}", "sequence_type": invoice_type, "company": company_id},
    ])  # fmt: skip
    invoice_sequences = {
        "company": company_id,
        **{
            f"{kind}_sequence": invoice_sequence
            for kind in ("in_invoice", "in_credit_note", "out_invoice", "out_credit_note")
        },
    }
    [fiscal_year_id] = await rpc.create("account.fiscalyear", [{
        "name": str(year), "company": company_id,
        "start_date": dt.date(year, 1, 1), "end_date": dt.date(year, 12, 31),
        "move_sequence": move_sequence, "invoice_sequences": [("create", [invoice_sequences])],
    }])  # fmt: skip
    await rpc.call("account.fiscalyear", "create_period", [fiscal_year_id])
    return fiscal_year_id


def payment_term_codes(suppliers: Iterable[Mapping[str, Any]]) -> list[str]:
    codes = {*STANDARD_PAYMENT_TERMS, *(s["payment_terms"] for s in suppliers if s.get("payment_terms"))}
    return sorted(codes)


def payment_term_values(code: str) -> dict[str, Any]:
    """ "NET30" -> due in full 30 days after the invoice date; "2/10 NET30" the same, with the
    discount only described (Tryton's payment terms have none)."""
    match = PAYMENT_TERM_PATTERN.match(code.strip().upper())
    if match is None:
        raise ValueError(f"unknown payment terms code {code!r} (expected NETn or p/d NETn)")
    days = int(match["days"])
    description = f"Net {days} days"
    if match["percent"]:
        description = f"{match['percent']}% discount if paid within {match['discount_days']} days; net {days} days"
    line = {"type": "remainder", "relativedeltas": [("create", [{"days": days}])]}
    return {"name": code, "description": description, "lines": [("create", [line])]}


async def create_payment_terms(rpc: TrytonRpc, codes: Sequence[str]) -> None:
    await rpc.create("account.invoice.payment_term", [payment_term_values(code) for code in codes])
    log.info("tryton bootstrap: payment terms %s", ", ".join(codes))


def next_supplier_number(suppliers: Iterable[Mapping[str, Any]]) -> int:
    pattern = re.compile(rf"^{re.escape(SUPPLIER_CODE_PREFIX)}(\d+)$")
    numbers = [int(m[1]) for s in suppliers if (m := pattern.match(str(s.get("erp_supplier_id", ""))))]
    return max(numbers, default=0) + 1


async def create_party_sequence(rpc: TrytonRpc, number_next: int) -> int:
    sequence_type = await model_data_id(rpc, "party", "sequence_type_party")
    [sequence_id] = await rpc.create("ir.sequence", [{
        "name": PARTY_SEQUENCE_NAME, "sequence_type": sequence_type, "prefix": SUPPLIER_CODE_PREFIX,
        "padding": SUPPLIER_CODE_DIGITS, "number_next": number_next,
    }])  # fmt: skip
    await rpc.write("party.configuration", [1], {"party_sequence": sequence_id})
    return sequence_id


async def create_accounting_category(rpc: TrytonRpc, accounts: Mapping[str, int]) -> int:
    [category_id] = await rpc.create("product.category", [{
        "name": ACCOUNTING_CATEGORY_NAME, "accounting": True,
        "account_expense": accounts["category_account_expense"],
        "account_revenue": accounts.get("category_account_revenue"),
    }])  # fmt: skip
    return category_id


def uom_values(item: Mapping[str, Any], category_id: int) -> list[dict[str, Any]]:
    """One unit per unit code of the item, in base units (factor 1 for the base unit)."""
    base = Decimal(str(item["uoms"][item["base_uom"]]))
    units = []
    for symbol, conversion in item["uoms"].items():
        factor = float(Decimal(str(conversion)) / base)
        units.append({
            "name": f"{symbol} ({item['item_id']})", "symbol": symbol, "category": category_id,
            "factor": factor, "rate": round(1.0 / factor, UOM_RATE_DIGITS),
        })  # fmt: skip
    return units


async def create_product(rpc: TrytonRpc, item: Mapping[str, Any], accounting_category_id: int) -> int:
    item_id = item["item_id"]
    [uom_category] = await rpc.create("product.uom.category", [{"name": f"{item_id} packs"}])
    units = uom_values(item, uom_category)
    uom_ids = dict(zip((u["symbol"] for u in units), await rpc.create("product.uom", units), strict=True))
    base_uom = uom_ids[item["base_uom"]]
    [template_id] = await rpc.create("product.template", [{
        "name": item["description"], "type": "goods", "purchasable": True,
        "default_uom": base_uom, "purchase_uom": base_uom, "account_category": accounting_category_id,
        "products": [("create", [{"suffix_code": item_id, **_gtin_identifier(item)}])],
    }])  # fmt: skip
    return template_id


def _gtin_identifier(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item's GTIN as the product's EAN identifier (what adapters/tryton/master_data.py reads)."""
    gtin = item.get("gtin")
    return {"identifiers": [("create", [{"type": "ean", "code": gtin}])]} if gtin else {}


async def seed_suppliers(rpc: TrytonRpc, suppliers: Sequence[Mapping[str, Any]]) -> int:
    """The seed suppliers through the suppliers adapter's own mapping; 0 if it is not there yet."""
    try:
        from adapters.tryton.suppliers import seed_supplier
    except ImportError as exc:
        log.warning("tryton bootstrap: suppliers not seeded (adapters.tryton.suppliers: %s)", exc)
        return 0
    for record in suppliers:
        await seed_supplier(rpc, dict(record))
    log.info("tryton bootstrap: %d suppliers", len(suppliers))
    return len(suppliers)
