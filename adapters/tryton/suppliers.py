"""`TrytonErp`: the ERP supplier port (adapters/erp.py `ErpPort`) over Tryton parties, and
`seed_supplier` for the bootstrap. How a supplier maps onto a party is in adapters/tryton/parties.py.

Behaviour kept from the sandbox ERP (sandbox/erp.py): unknown ids are `NotFoundError`; a second
supplier with a held tax id is `duplicate_tax_id` (409, the number never in the message); the same
idempotency key with another body is `idempotency_key_reused` (422); an update replaces the fields
it is given; holding an inactive supplier records the reason and keeps it inactive; release puts
an on-hold supplier back to active; deactivation keeps the hold reason.

Tryton has no idempotency keys and we never repeat a write (rpc.py), so each create is one
atomic Tryton call that also stores what makes a retry find it:
- a supplier: its party carries the key identifier (parties.py), looked up before creating;
- a site: a `party.address` (remit-to = the address's `invoice` flag, order-from = an address
  without it) created in the same party write as an untyped party identifier holding the key;
- a bank account: found again by what it is (same owner, bank and account number), as
  `bank.account` has no field of ours. The routing number is the account's `bank` (a bank whose
  party has code `ABA-<routing>`), the account number a `bank.account.number` of type `other`
  (`iban` does not fit US accounts); Tryton has nowhere for account type and holder name, the
  owner is the supplier. So the same key with another account is a second account, not a refusal.
Hold, release and deactivation also leave an `ir.note` on the party ("On hold: <reason>"), so a
Tryton user sees why; a retried request finds its note by the key in it and adds none.

Tryton's own messages may quote the values refused (a tax id, an account number), so refusals on
those writes are re-raised with our wording only.

Limits, unlike the sandbox: updates, holds, releases and deactivations are replay-safe because
they set values, but the same key with another body there is not refused; the duplicate tax id
check and the create are two calls, so two creates racing with different keys could both pass
it (Tryton has no unique constraint on identifiers); a site the key made and a user since edited
is not found again (`NotFoundError`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from adapters.errors import BusinessRuleError, NotFoundError
from adapters.tryton import parties as p
from adapters.tryton.rpc import SYSTEM, TrytonRpc
from domain.supplier import (
    BankAccount,
    ErpSupplier,
    ErpSupplierDraft,
    ErpSupplierUpdate,
    SitePurpose,
    SupplierSite,
    TaxId,
)

PAGE_SIZE = 500
EVEN_ARCHIVED = {"active_test": False}  # a domain on `active` is not enough: an OR on identifiers drops it
VENDOR_MANAGEMENT_ID_BASE = 100000  # as sandbox/erp.py: SUP-0001 is VM-100001


class TrytonErp:
    """`ErpPort` over a Tryton database's parties."""

    def __init__(self, rpc: TrytonRpc) -> None:
        self._rpc = rpc

    # -- reads -------------------------------------------------------------------------------------

    async def list_suppliers(
        self,
        *,
        tax_id: str | None = None,
        name: str | None = None,
        status: str | None = None,
        external_id: str | None = None,
    ) -> AsyncIterator[ErpSupplier]:
        domain = p.party_domain(tax_id=tax_id, name=name, status=status, external_id=external_id)
        offset = 0
        while True:
            page = await self._search_all(
                "party.party", domain, p.PARTY_FIELDS, offset=offset, limit=PAGE_SIZE, order=[("id", "ASC")]
            )
            for supplier in await self._suppliers(page):
                if p.external_id_matches(supplier, external_id):
                    yield supplier
            if len(page) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    async def get_supplier(self, erp_supplier_id: str) -> ErpSupplier:
        return (await self._suppliers([await self._party(erp_supplier_id)]))[0]

    # -- supplier header ---------------------------------------------------------------------------

    async def create_supplier(self, draft: ErpSupplierDraft, *, idempotency_key: str) -> ErpSupplier:
        key_code = p.idempotency_code("supplier", idempotency_key, draft.model_dump(mode="json"))
        made = await self._keyed_identifiers([("address", "=", None)], "supplier", idempotency_key)
        if made:
            _refuse_another_body(made[0]["code"], key_code)
            return await self._supplier_by_id(made[0]["party"])
        if await self._tax_id_holders(draft.tax_id):
            # Named by field, never by value (as the sandbox).
            raise BusinessRuleError(
                SYSTEM, "duplicate_tax_id", "another supplier already holds this tax_id", status=409
            )
        party_id = await p.create_party(
            self._rpc, draft.model_dump(mode="json"), tax_id=draft.tax_id, key_code=key_code
        )
        return await self._supplier_by_id(party_id)

    async def update_supplier(
        self, erp_supplier_id: str, changes: ErpSupplierUpdate, *, idempotency_key: str
    ) -> ErpSupplier:
        """Replaces each given field (identifiers, external ids, categories, diversity); a replay
        writes the same values again, so it needs no key of its own."""
        party = await self._party(erp_supplier_id)
        own = await self._own_identifiers(party["id"])
        drop: list[int] = []
        add: list[dict[str, Any]] = []
        if changes.identifiers is not None:
            drop += [i["id"] for i in own if p.is_industry(i["code"])]
            add += p.industry_identifiers(changes.identifiers)
        if changes.external_ids is not None:
            drop += [i["id"] for i in own if p.is_external(i["code"])]
            add += p.external_identifiers(changes.external_ids)
        values: dict[str, Any] = {}
        if drop or add:
            values["identifiers"] = [("delete", drop), ("create", add)]
        if changes.categories is not None or changes.diversity is not None:
            values["categories"] = await self._replaced_categories(party, changes)
        if values:
            await self._rpc.write("party.party", [party["id"]], values)
        return await self._supplier_by_id(party["id"])

    # -- status ------------------------------------------------------------------------------------

    async def place_hold(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier:
        party = await self._party(erp_supplier_id)
        hold_id = (await p.category_ids(self._rpc, [p.HOLD_CATEGORY]))[0]
        reasons = [i["id"] for i in await self._own_identifiers(party["id"]) if p.is_hold_reason(i["code"])]
        values = {
            "categories": [("add", [hold_id])],
            "identifiers": [("delete", reasons), ("create", [p.untyped(p.HOLD_PREFIX + reason)])],
        }
        return await self._change_status(party, values, f"On hold: {reason}", idempotency_key)

    async def release_hold(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier:
        party = await self._party(erp_supplier_id)
        hold_id = (await p.category_ids(self._rpc, [p.HOLD_CATEGORY]))[0]
        reasons = [i["id"] for i in await self._own_identifiers(party["id"]) if p.is_hold_reason(i["code"])]
        values = {"categories": [("remove", [hold_id])], "identifiers": [("delete", reasons)]}
        return await self._change_status(party, values, f"Hold released: {reason}", idempotency_key)

    async def deactivate_supplier(self, erp_supplier_id: str, reason: str, *, idempotency_key: str) -> ErpSupplier:
        party = await self._party(erp_supplier_id)
        return await self._change_status(party, {"active": False}, f"Deactivated: {reason}", idempotency_key)

    async def _change_status(
        self, party: Mapping[str, Any], values: Mapping[str, Any], note: str, idempotency_key: str
    ) -> ErpSupplier:
        await self._rpc.write("party.party", [party["id"]], values)
        message = f"{note}\n(SupplyBridge request {idempotency_key})"
        resource = f"party.party,{party['id']}"
        noted = await self._rpc.search_read("ir.note", [("resource", "=", resource), ("message", "=", message)], ["id"])
        if not noted:
            await self._rpc.create("ir.note", [{"resource": resource, "message": message}])
        return await self._supplier_by_id(party["id"])

    # -- sites and bank accounts -------------------------------------------------------------------

    async def add_site(self, erp_supplier_id: str, site: SupplierSite, *, idempotency_key: str) -> str:
        """The address and the key's party identifier are made in one party `write` (Tryton
        refuses an untyped identifier tied to an address in the same call); a replay finds the
        address again by its content, which the key's body digest vouches for."""
        party = await self._party(erp_supplier_id)
        key_code = p.idempotency_code("site", idempotency_key, site.model_dump(mode="json"))
        made = await self._keyed_identifiers([("party", "=", party["id"])], "site", idempotency_key)
        values = await self._address_values(site)
        if made:
            _refuse_another_body(made[0]["code"], key_code)
        else:
            changes = {"addresses": [("create", [values])], "identifiers": [("create", [p.untyped(key_code)])]}
            await self._rpc.write("party.party", [party["id"]], changes)
        same = [("party", "=", party["id"]), *((field, "=", value) for field, value in values.items())]
        found = await self._search_all("party.address", same, ["id"], order=[("id", "DESC")])
        if not found:
            raise NotFoundError(SYSTEM, f"the site made with this key for supplier {erp_supplier_id} is gone")
        return str(found[0]["id"])

    async def add_bank_account(self, erp_supplier_id: str, account: BankAccount, *, idempotency_key: str) -> str:
        party = await self._party(erp_supplier_id)
        bank_id = await self._bank(account.routing_number.reveal())
        number = account.account_number.reveal()
        same = [("owners", "=", party["id"]), ("bank", "=", bank_id), ("numbers.number", "=", number)]
        found = await self._search_all("bank.account", same, ["id"], limit=1)
        if found:
            return str(found[0]["id"])
        values = {
            "bank": bank_id,
            "owners": [("add", [party["id"]])],
            "numbers": [("create", [{"type": "other", "number": number}])],
        }
        ids = await p.without_values(self._rpc.create("bank.account", [values]), "the bank account")
        return str(ids[0])

    async def _bank(self, routing_number: str) -> int:
        """The Tryton bank for a US routing (ABA) number, made on first use."""
        code = f"ABA-{p.digits_of(routing_number)}"
        found = await self._rpc.search_read("bank", [("party.code", "=", code)], ["id"], limit=1)
        if found:
            return int(found[0]["id"])
        banks = await self._search_all("party.party", [("code", "=", code)], ["id"], limit=1)
        if banks:
            bank_party = int(banks[0]["id"])
        else:
            made = self._rpc.create("party.party", [{"name": f"Bank {code}", "code": code}])
            bank_party = (await p.without_values(made, "the bank"))[0]
        return (await self._rpc.create("bank", [{"party": bank_party}]))[0]

    async def _address_values(self, site: SupplierSite) -> dict[str, Any]:
        """Country and state as Tryton's records when it has them; a state it lacks goes in front
        of the postal code (adapters/tryton/parties.py)."""
        address = site.address
        country = await self._rpc.search_read("country.country", [("code", "=", address.country)], ["id"], limit=1)
        state_code = f"{address.country}-{address.state}"
        state = await self._rpc.search_read("country.subdivision", [("code", "=", state_code)], ["id"], limit=1)
        street = "\n".join(line for line in (address.line1, address.line2) if line)
        postal_code = address.postal_code if state else p.postal_code_with_state(address.state, address.postal_code)
        return {
            "street_unstructured": street,
            "city": address.city,
            "postal_code": postal_code,
            "country": country[0]["id"] if country else None,
            "subdivision": state[0]["id"] if state else None,
            "invoice": site.purpose is SitePurpose.REMIT_TO,
        }

    # -- shared look-ups ---------------------------------------------------------------------------

    async def _search_all(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        offset: int = 0,
        limit: int | None = None,
        order: Sequence[tuple[str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        """`search_read` that also finds archived records (inactive suppliers)."""
        return await self._rpc.search_read(
            model, domain, fields, offset=offset, limit=limit, order=order, context=EVEN_ARCHIVED
        )

    async def _party(self, erp_supplier_id: str) -> dict[str, Any]:
        domain = [
            ("code", "=", erp_supplier_id),
            ("code", "like", p.like_literal(p.SUPPLIER_CODE_PREFIX) + "%"),
        ]
        found = await self._search_all("party.party", domain, p.PARTY_FIELDS, limit=1)
        if not found:
            raise NotFoundError(SYSTEM, f"supplier {erp_supplier_id} does not exist")
        return found[0]

    async def _supplier_by_id(self, party_id: int) -> ErpSupplier:
        found = await self._search_all("party.party", [("id", "=", party_id)], p.PARTY_FIELDS)
        return (await self._suppliers(found))[0]

    async def _own_identifiers(self, party_id: int) -> list[dict[str, Any]]:
        domain = [("party", "=", party_id), ("address", "=", None)]
        return await self._rpc.search_read("party.identifier", domain, p.IDENTIFIER_FIELDS)

    async def _keyed_identifiers(self, where: list[Any], scope: str, key: str) -> list[dict[str, Any]]:
        domain = [*where, ("type", "=", None), ("code", "like", p.key_pattern(scope, key))]
        found = await self._rpc.search_read("party.identifier", domain, p.IDENTIFIER_FIELDS)
        return [row for row in found if p.same_key(row["code"], scope, key)]

    async def _tax_id_holders(self, tax_id: TaxId) -> list[dict[str, Any]]:
        domain = [
            ("code_compact", "in", p.tax_id_codes(tax_id.digits())),
            ("party.code", "like", p.like_literal(p.SUPPLIER_CODE_PREFIX) + "%"),
        ]
        return await self._rpc.search_read("party.identifier", domain, ["party"])

    async def _replaced_categories(self, party: Mapping[str, Any], changes: ErpSupplierUpdate) -> list[Any]:
        current = await self._rpc.call("party.category", "read", list(party["categories"]), ["name", "parent"])
        diversity_root = (await p.category_ids(self._rpc, [p.DIVERSITY_CATEGORY]))[0]
        keep = []
        for row in current:
            replaced_plain = (
                changes.categories is not None and not row["parent"] and row["name"] not in p.OWN_CATEGORIES
            )
            replaced_diversity = changes.diversity is not None and row["parent"] == diversity_root
            if not (replaced_plain or replaced_diversity):
                keep.append(row["id"])
        wanted = await p.category_ids(self._rpc, changes.categories or [])
        wanted += await p.category_ids(self._rpc, changes.diversity or [], parent=diversity_root)
        final = list(dict.fromkeys(keep + wanted))
        return [("remove", [c for c in party["categories"] if c not in final]), ("add", final)]

    async def _suppliers(self, parties: Sequence[Mapping[str, Any]]) -> list[ErpSupplier]:
        """Parties as suppliers, with three more reads for the page (identifiers, category and
        payment term names)."""
        if not parties:
            return []
        ids = [party["id"] for party in parties]
        identifiers = await self._rpc.search_read("party.identifier", [("party", "in", ids)], p.IDENTIFIER_FIELDS)
        category_ids = sorted({c for party in parties for c in party.get("categories") or []})
        categories = await self._rpc.call("party.category", "read", category_ids, ["name", "parent"])
        term_ids = sorted({party["supplier_payment_term"] for party in parties if party.get("supplier_payment_term")})
        terms = await self._rpc.call("account.invoice.payment_term", "read", term_ids, ["name"])
        by_party: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        for identifier in identifiers:
            by_party[identifier["party"]].append(identifier)
        category_rows = {row["id"]: row for row in categories}
        term_names = {row["id"]: row["name"] for row in terms}
        return [p.supplier_from_party(party, by_party[party["id"]], category_rows, term_names) for party in parties]


def _refuse_another_body(stored_code: str, key_code: str) -> None:
    if stored_code != key_code:
        raise BusinessRuleError(
            SYSTEM, "idempotency_key_reused", "this idempotency key was used with a different request body", status=422
        )


async def seed_supplier(rpc: TrytonRpc, record: dict[str, Any]) -> int:
    """One record of sandbox/seed/erp-suppliers.json as a party with code `erp_supplier_id`, its
    remit-to address and bank account; cross-referenced to vendor management as the sandbox seed
    does (SUP-0001 is VM-100001) unless the record names its own external ids. Safe to repeat."""
    code = record["erp_supplier_id"]
    erp = TrytonErp(rpc)
    try:
        party_id = int((await erp._party(code))["id"])
    except NotFoundError:
        vendor_id = f"VM-{VENDOR_MANAGEMENT_ID_BASE + int(p.digits_of(code) or 0)}"
        fields = {"external_ids": {"vendor_management": vendor_id}, **record}
        party_id = await p.create_party(rpc, fields, tax_id=TaxId.model_validate(record["tax_id"]), code=code)
    if record.get("remit_to"):
        site = SupplierSite(purpose=SitePurpose.REMIT_TO, address=record["remit_to"])
        await erp.add_site(code, site, idempotency_key=f"seed-{code}-remit-to")
    if record.get("bank_account"):
        account = BankAccount.model_validate(record["bank_account"])
        await erp.add_bank_account(code, account, idempotency_key=f"seed-{code}-bank-account")
    return party_id
