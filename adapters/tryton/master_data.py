"""`TrytonErpMaster`: the ERP's supplier and item master (`MasterDataPort`, MasterSystem.ERP) over
Tryton, read as the canonical fields of adapters/master_data.py and written back. It maps what
`HttpErpMaster` maps for the sandbox's `/erp`, with the shared helpers of adapters/master_data_http.py.

Suppliers are the parties adapters/tryton/parties.py calls suppliers (Code `SUP-...` = the ERP
supplier id, archived ones included), read with the same mapping as `TrytonErp`:
- legal_name = party Name; dba_name = the `dba:` identifier; tax_id = the tax identifier's digits;
  status = active | hold (category "SupplyBridge: on hold") | inactive (archived);
  unspsc_categories = the party's top-level categories; diversity = those under
  "SupplyBridge: diversity"; payment_terms = the Supplier Payment Term's name;
  erp_supplier_id = Code; the vendor management link = the `external:vendor_management:` identifier.
- address = the newest active address with Invoice ticked (the remit-to site): street lines,
  city, postal code, and state and country from Tryton's subdivision and country when it has
  them. A database without those records (ours has none) keeps the state in front of the postal
  code ("IL 60611", as `TrytonErp.add_site` writes it) and no country: the state is read back
  from there, and the country reads as "US" (`Address`'s default), so a written address reads
  back as it was sent.
- bank_account = the fingerprint of the newest bank account the party owns (routing number from
  its bank's party code `ABA-<routing>`, account number from its first number).
Items are the active products with a Code (= our item id): description = the product's Name,
gtin = its identifier of type EAN (Tryton's GTIN type), base_unit = the symbol of its default
unit.

Tryton does not hold and therefore reads as None: an item's `unspsc` (Tryton products have no
classification code). The bootstrap stores each seeded item's GTIN as its EAN identifier.
Nothing else is missing.

Writes (`can_write`): suppliers legal_name, dba_name, payment_terms (a name Tryton has:
`unknown_payment_terms` otherwise), unspsc_categories and diversity (through
`TrytonErp.update_supplier`), address (a new remit-to address, `TrytonErp.add_site`) and status
(`TrytonErp.place_hold` / `release_hold` / `deactivate_supplier`, with a note on the party);
items description and gtin (a valid GTIN: `invalid_gtin` otherwise). Not written: an item's
base unit (a Tryton unit is a record of the item's unit category, and the default unit of a
product with stock moves cannot change: it would re-measure every PO line), unspsc (no field),
tax id, bank account and erp_supplier_id (as in the sandbox). A None value changes nothing, as
the sandbox's PATCH ignores it. Records are not created here (`local_id` None is refused, as
`HttpErpMaster` does): a supplier is created in the ERP by onboarding, not by a sync.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from pydantic import ValidationError
from stdnum import ean

from adapters import master_data_http as shared
from adapters.errors import BusinessRuleError, NotFoundError
from adapters.tryton import parties as p
from adapters.tryton.rpc import SYSTEM, TrytonRpc
from adapters.tryton.suppliers import EVEN_ARCHIVED, TrytonErp
from domain.master_data.matching import SystemRecord
from domain.master_data.policy import Entity
from domain.supplier import Address, ErpSupplierUpdate, SitePurpose, SupplierSite

PAGE_SIZE = 200
PARTY_FIELDS = [*p.PARTY_FIELDS, "create_date", "write_date"]
ADDRESS_FIELDS = ["party", "street_unstructured", "city", "postal_code", "country.code", "subdivision.code"]
BANK_FIELDS = ["owners", "bank.party.code", "numbers.number"]
PRODUCT_FIELDS = ["code", "name", "default_uom.symbol", "create_date", "write_date", "template.write_date"]
GTIN_TYPE = "ean"
DEFAULT_COUNTRY = "US"
WRITABLE = {
    Entity.SUPPLIERS: frozenset(
        {"legal_name", "dba_name", "payment_terms", "unspsc_categories", "diversity", "status", "address"}
    ),
    Entity.ITEMS: frozenset({"description", "gtin"}),
}


class TrytonErpMaster:
    """`MasterDataPort` for the ERP over a Tryton database; pages of `page_size` records
    (default: this module's `PAGE_SIZE`, read when a listing starts)."""

    system = shared.ERP

    def __init__(self, rpc: TrytonRpc, *, page_size: int | None = None) -> None:
        self._rpc = rpc
        self._erp = TrytonErp(rpc)
        self._page_size = page_size

    def holds(self, entity: Entity) -> bool:
        return entity in (Entity.SUPPLIERS, Entity.ITEMS)

    def can_write(self, entity: Entity, field: str) -> bool:
        return field in WRITABLE.get(entity, frozenset())

    async def read(self, entity: Entity) -> AsyncIterator[SystemRecord]:
        if entity is Entity.SUPPLIERS:
            every_supplier = p.party_domain(tax_id=None, name=None, status=None, external_id=None)
            async for page in self._pages("party.party", every_supplier, PARTY_FIELDS, EVEN_ARCHIVED):
                for supplier in await self._suppliers(page):
                    yield supplier
        elif entity is Entity.ITEMS:
            async for page in self._pages("product.product", [("code", "!=", None)], PRODUCT_FIELDS, None):
                for item in await self._items(page):
                    yield item

    async def write(
        self, entity: Entity, record_key: str, local_id: str | None, changes: dict[str, Any], idempotency_key: str
    ) -> None:
        unknown = set(changes) - WRITABLE.get(entity, frozenset())
        if unknown or local_id is None:
            message = f"{shared.ERP.value} does not take {entity.value} fields {sorted(unknown or changes)}"
            raise BusinessRuleError(SYSTEM, "field_not_writable", message)
        given = {name: value for name, value in changes.items() if value is not None}
        if entity is Entity.ITEMS:
            await self._write_item(local_id, given)
        else:
            await self._write_supplier(local_id, given, idempotency_key)

    # -- reading -----------------------------------------------------------------------------------

    async def _pages(
        self, model: str, domain: Sequence[Any], fields: Sequence[str], context: Mapping[str, Any] | None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        size = self._page_size or PAGE_SIZE
        offset = 0
        while True:
            page = await self._rpc.search_read(
                model, domain, fields, offset=offset, limit=size, order=[("id", "ASC")], context=context
            )
            if page:
                yield page
            if len(page) < size:
                return
            offset += size

    async def _suppliers(self, parties: Sequence[Mapping[str, Any]]) -> list[SystemRecord]:
        """A page of parties in canonical fields, with five more reads for the page."""
        ids = [party["id"] for party in parties]
        identifiers = await self._rpc.search_read("party.identifier", [("party", "in", ids)], p.IDENTIFIER_FIELDS)
        category_ids = sorted({c for party in parties for c in party.get("categories") or []})
        categories = await self._rpc.call("party.category", "read", category_ids, ["name", "parent", "parent.name"])
        term_ids = sorted({party["supplier_payment_term"] for party in parties if party.get("supplier_payment_term")})
        terms = await self._rpc.call("account.invoice.payment_term", "read", term_ids, ["name"])
        remit_to = await self._rpc.search_read(
            "party.address", [("party", "in", ids), ("invoice", "=", True)], ADDRESS_FIELDS, order=[("id", "ASC")]
        )
        banks = await self._rpc.search_read("bank.account", [("owners", "in", ids)], BANK_FIELDS, order=[("id", "ASC")])
        by_party: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        for identifier in identifiers:
            by_party[identifier["party"]].append(identifier)
        addresses = {row["party"]: row for row in remit_to}  # the newest wins
        accounts = {owner: row for row in banks for owner in row.get("owners") or []}
        category_rows = {row["id"]: row for row in categories}
        term_names = {row["id"]: row["name"] for row in terms}
        return [
            self._supplier(party, by_party[party["id"]], (category_rows, term_names), addresses, accounts)
            for party in parties
        ]

    def _supplier(
        self,
        party: Mapping[str, Any],
        identifiers: Sequence[Mapping[str, Any]],
        names: tuple[Mapping[int, Mapping[str, Any]], Mapping[int, str]],
        addresses: Mapping[int, Mapping[str, Any]],
        accounts: Mapping[int, Mapping[str, Any]],
    ) -> SystemRecord:
        """One party; `names` are the rows of the page's categories and the names of its payment
        terms, `addresses` and `accounts` the newest remit-to address and bank account per party."""
        categories, terms = names
        supplier = p.supplier_from_party(party, identifiers, categories, terms)
        own_codes = [i["code"] for i in identifiers if not i.get("address") and not i.get("type")]
        dba = [code.removeprefix(p.DBA_PREFIX) for code in own_codes if code.startswith(p.DBA_PREFIX)]
        rows = [categories[c] for c in party.get("categories") or [] if c in categories]
        diversity = [row["name"] for row in rows if (row.get("parent.") or {}).get("name") == p.DIVERSITY_CATEGORY]
        tax_id = shared.digits(supplier.tax_id.digits() if supplier.tax_id else None)
        fields = {
            "legal_name": supplier.legal_name,
            "dba_name": dba[-1] if dba else None,
            "tax_id": tax_id,
            "status": shared.ERP_STATUSES.get(supplier.status.value),
            "diversity": diversity,
            "address": _address(addresses.get(party["id"])),
            "payment_terms": supplier.payment_terms,
            "bank_account": _bank_fingerprint(accounts.get(party["id"])),
            "erp_supplier_id": supplier.erp_supplier_id,
            "unspsc_categories": supplier.categories,
        }
        vendor_id = supplier.external_ids.get("vendor_management")
        keys = {"tax_id": tax_id} if tax_id else {}
        links = ((shared.VM, vendor_id),) if vendor_id else ()
        return shared.record(
            shared.ERP, supplier.erp_supplier_id, _stamped(party), fields, match_keys=keys, links=links
        )

    async def _items(self, products: Sequence[Mapping[str, Any]]) -> list[SystemRecord]:
        ids = [product["id"] for product in products]
        domain = [("product", "in", ids), ("type", "=", GTIN_TYPE)]
        found = await self._rpc.search_read("product.identifier", domain, ["product", "code"], order=[("id", "ASC")])
        gtins = {row["product"]: row["code"] for row in found}  # the newest wins
        items = []
        for product in products:
            body = {"item_id": product["code"], "gtin": gtins.get(product["id"])}
            fields = {
                "description": product.get("name"),
                "gtin": body["gtin"],
                "base_unit": (product.get("default_uom.") or {}).get("symbol"),
                "unspsc": None,
            }
            keys = shared.item_keys(body)
            items.append(shared.record(shared.ERP, product["code"], _stamped(product), fields, match_keys=keys))
        return items

    # -- writing -----------------------------------------------------------------------------------

    async def _write_supplier(self, erp_supplier_id: str, changes: Mapping[str, Any], key: str) -> None:
        """In the sandbox's order: the header, the categories, the address, the status."""
        shared.refuse_unknown_status(SYSTEM, changes)
        party = await self._one("party.party", erp_supplier_id, ["id"], EVEN_ARCHIVED, "supplier")
        values: dict[str, Any] = {}
        if "legal_name" in changes:
            values["name"] = changes["legal_name"]
        if "payment_terms" in changes:
            values["supplier_payment_term"] = await p.payment_term_id(self._rpc, changes["payment_terms"])
        if "dba_name" in changes:
            own = [("party", "=", party["id"]), ("address", "=", None), ("type", "=", None),
                   ("code", "like", p.like_literal(p.DBA_PREFIX) + "%")]  # fmt: skip
            stale = [row["id"] for row in await self._rpc.search_read("party.identifier", own, ["id"])]
            values["identifiers"] = [("delete", stale), ("create", [p.untyped(p.DBA_PREFIX + changes["dba_name"])])]
        if values:
            await self._rpc.write("party.party", [party["id"]], values)
        if "unspsc_categories" in changes or "diversity" in changes:
            update = ErpSupplierUpdate(categories=changes.get("unspsc_categories"), diversity=changes.get("diversity"))
            await self._erp.update_supplier(erp_supplier_id, update, idempotency_key=key)
        if "address" in changes:
            site = SupplierSite(purpose=SitePurpose.REMIT_TO, address=_valid_address(changes["address"]))
            await self._erp.add_site(erp_supplier_id, site, idempotency_key=f"{key}:address")
        if "status" in changes:
            await self._write_status(erp_supplier_id, changes["status"], f"{key}:status")

    async def _write_status(self, erp_supplier_id: str, status: str, key: str) -> None:
        if status == "hold":
            await self._erp.place_hold(erp_supplier_id, shared.HOLD_REASON, idempotency_key=key)
        elif status == "active":
            await self._erp.release_hold(erp_supplier_id, shared.HOLD_REASON, idempotency_key=key)
        else:  # inactive: any other status was refused before anything was written (`_write_supplier`)
            await self._erp.deactivate_supplier(erp_supplier_id, shared.HOLD_REASON, idempotency_key=key)

    async def _write_item(self, item_id: str, changes: Mapping[str, Any]) -> None:
        product = await self._one("product.product", item_id, ["id", "template"], None, "item")
        if "description" in changes:
            await self._rpc.write("product.template", [product["template"]], {"name": changes["description"]})
        if "gtin" in changes:
            gtin = str(changes["gtin"])
            if not ean.is_valid(gtin):
                raise BusinessRuleError(SYSTEM, "invalid_gtin", f"gtin {gtin!r} is not a valid GTIN", status=422)
            domain = [("product", "=", product["id"]), ("type", "=", GTIN_TYPE)]
            stale = [row["id"] for row in await self._rpc.search_read("product.identifier", domain, ["id"])]
            new = {"type": GTIN_TYPE, "code": ean.compact(gtin)}
            identifiers = [("delete", stale), ("create", [new])]
            await self._rpc.write("product.product", [product["id"]], {"identifiers": identifiers})

    async def _one(
        self, model: str, code: str, fields: list[str], context: Mapping[str, Any] | None, label: str
    ) -> dict[str, Any]:
        found = await self._rpc.search_read(model, [("code", "=", code)], fields, limit=1, context=context)
        if not found:
            raise NotFoundError(SYSTEM, f"{label} {code} does not exist")
        return found[0]


def _stamped(row: Mapping[str, Any]) -> dict[str, Any]:
    """The body `record` stamps the fields with: the row's (or its template's) last change, in UTC
    (Tryton keeps naive UTC datetimes)."""
    stamps = [row.get("write_date"), row.get("create_date"), (row.get("template.") or {}).get("write_date")]
    latest = max((s for s in stamps if isinstance(s, dt.datetime)), default=None)
    return {"updated_at": latest.replace(tzinfo=dt.UTC).isoformat() if latest else None}


def _address(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    line1, _, line2 = (row.get("street_unstructured") or "").partition("\n")
    postal_code = row.get("postal_code") or ""
    subdivision = (row.get("subdivision.") or {}).get("code")
    if subdivision:
        state = subdivision.split("-", 1)[-1]
    else:  # no subdivision record: the state is in front of the postal code (adapters/tryton/parties.py)
        state, postal_code = p.state_and_postal_code(postal_code)
    country = (row.get("country.") or {}).get("code") or DEFAULT_COUNTRY
    fields = {"line1": line1, "line2": line2 or None, "city": row.get("city"), "state": state or None}
    return shared.address({**fields, "postal_code": postal_code, "country": country})


def _bank_fingerprint(bank: Mapping[str, Any] | None) -> str | None:
    if bank is None:
        return None
    routing = str(((bank.get("bank.") or {}).get("party.") or {}).get("code") or "").removeprefix("ABA-")
    numbers = bank.get("numbers.") or []
    return shared.fingerprint(shared.last4(routing), shared.last4(numbers[0].get("number") if numbers else None))


def _valid_address(value: Any) -> Address:
    try:
        return Address.model_validate(value)
    except ValidationError as invalid:
        fields = sorted({".".join(str(part) for part in error["loc"]) or "address" for error in invalid.errors()})
        message = f"address refused: invalid {', '.join(fields)}"
        raise BusinessRuleError(SYSTEM, "invalid_address", message, status=422) from None
