"""How a SupplyBridge supplier is held in Tryton's party model (used by adapters/tryton/suppliers.py),
and `create_party`, the one party create shared by `create_supplier` and the seed.

Decisions (Tryton 8 with party, account_invoice, bank):

- A supplier is a `party.party` whose `code` starts with `SUP-` (the party sequence makes new
  codes; the seed gives its own). `legal_name` is the party `name`. Parties with other codes
  (the company, banks) are not suppliers.
- Tryton has no second name on a party, so `dba_name` is an untyped identifier `dba:<name>`; the
  `name` filter looks at both.
- `tax_id` is a typed identifier: `us_ein` for an EIN, `us_ssn` for an SSN, when python-stdnum
  (the library Tryton validates them with) accepts the number; a number it refuses is kept as an
  untyped identifier `EIN:<digits>` / `SSN:<digits>`, so that nothing our sandbox ERP accepts is
  refused here. Tax ids are matched by their digits (`code_compact`) and never put in a message.
- DUNS, GLN, HIN and NPI have no identifier type in Tryton: untyped identifiers `duns:<value>`,
  `gln:...`, `hin:...`, `npi:...`; `external_ids` are untyped `external:<system>:<id>`.
- `categories` are top-level `party.category` records found (or made) by name; `diversity`
  classifications are child categories of "SupplyBridge: diversity". Tryton returns a party's
  categories in its own order (by name), not in the order they were given.
- `payment_terms` is the party's `supplier_payment_term`, an `account.invoice.payment_term` found
  by name; a name Tryton does not have is refused (`unknown_payment_terms`): a term needs lines,
  which only an accountant can decide.
- Status: `inactive` is `active = False` (Tryton's archive); on hold is the category
  "SupplyBridge: on hold" (shown in Tryton's party list) and the reason an untyped identifier
  `hold-reason:<reason>` (shown on the party form). An archived party reads as `inactive` even
  while held, as in the sandbox.
- An address's state is Tryton's `country.subdivision` when the database has it; without it (ours
  has no subdivision records) the state is kept in front of the postal code, as on a US envelope
  ("IL 60611"): `postal_code_with_state` writes that, `state_and_postal_code` reads it apart.
- Idempotency keys are untyped identifiers `supplybridge-key:<scope>:<key> sha256:<digest>`: the
  digest is of the request body, so the same key with another body is `idempotency_key_reused`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from stdnum.us import ein, ssn

from adapters.errors import BusinessRuleError, NotFoundError
from adapters.tryton.rpc import SYSTEM, TrytonRpc
from domain.supplier import ErpSupplier, ErpSupplierStatus, TaxId, TaxIdKind

SUPPLIER_CODE_PREFIX = "SUP-"
HOLD_CATEGORY = "SupplyBridge: on hold"
DIVERSITY_CATEGORY = "SupplyBridge: diversity"
OWN_CATEGORIES = frozenset({HOLD_CATEGORY, DIVERSITY_CATEGORY})
INDUSTRY_IDENTIFIERS = ("duns", "gln", "hin", "npi")
TYPED_TAX_KINDS = {"us_ein": TaxIdKind.EIN, "us_ssn": TaxIdKind.SSN}
DBA_PREFIX = "dba:"
HOLD_PREFIX = "hold-reason:"
EXTERNAL_PREFIX = "external:"
KEY_PREFIX = "supplybridge-key:"
DIGEST_MARK = " sha256:"
PARTY_FIELDS = ["code", "name", "active", "categories", "supplier_payment_term"]
IDENTIFIER_FIELDS = ["party", "type", "code", "code_compact", "address"]


def postal_code_with_state(state: str, postal_code: str) -> str:
    """The postal code field of an address whose state Tryton has no subdivision for."""
    return f"{state} {postal_code}"


def state_and_postal_code(field: str) -> tuple[str, str]:
    """`postal_code_with_state` read apart: (state, postal code); a field without a state in
    front (typed into Tryton by a person) is all postal code."""
    state, space, postal_code = field.partition(" ")
    return (state, postal_code) if space else ("", field)


def like_literal(text: str) -> str:
    """`text` for a Tryton `like` pattern, its wildcards escaped (Tryton escapes with a backslash)."""
    for char in "\\%_":
        text = text.replace(char, "\\" + char)
    return text


def digits_of(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


# -- identifiers -----------------------------------------------------------------------------------


def tax_identifier(tax_id: TaxId) -> dict[str, Any]:
    """The tax id as a party identifier: typed when stdnum (hence Tryton) accepts it."""
    value = tax_id.value.reveal()
    checker, kind = (ein, "us_ein") if tax_id.kind is TaxIdKind.EIN else (ssn, "us_ssn")
    if checker.is_valid(value):
        return {"type": kind, "code": value}
    return {"type": None, "code": f"{tax_id.kind.value}:{tax_id.digits()}"}


def tax_id_codes(tax_id: str) -> list[str]:
    """What `code_compact` holds for a tax id with these digits, typed or not."""
    digits = digits_of(tax_id)
    return [digits, *(f"{kind.value}:{digits}" for kind in TaxIdKind)]


def idempotency_code(scope: str, key: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return f"{KEY_PREFIX}{scope}:{key}{DIGEST_MARK}{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"


def key_pattern(scope: str, key: str) -> str:
    """A `like` pattern for the identifiers an idempotency key may have made."""
    return like_literal(f"{KEY_PREFIX}{scope}:{key}{DIGEST_MARK}") + "%"


def same_key(code: str, scope: str, key: str) -> bool:
    return code.rsplit(DIGEST_MARK, 1)[0] == f"{KEY_PREFIX}{scope}:{key}"


def untyped(code: str) -> dict[str, Any]:
    return {"type": None, "code": code}


def industry_identifiers(values: Mapping[str, str | None]) -> list[dict[str, Any]]:
    return [untyped(f"{name}:{value}") for name, value in values.items() if value]


def external_identifiers(values: Mapping[str, str]) -> list[dict[str, Any]]:
    return [untyped(f"{EXTERNAL_PREFIX}{system}:{value}") for system, value in values.items() if value]


def is_industry(code: str) -> bool:
    return code.split(":", 1)[0] in INDUSTRY_IDENTIFIERS


def is_external(code: str) -> bool:
    return code.startswith(EXTERNAL_PREFIX)


def is_hold_reason(code: str) -> bool:
    return code.startswith(HOLD_PREFIX)


# -- the party values for a create ----------------------------------------------------------------


def supplier_fields(record: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of a draft (or seed record) that become identifiers, as plain values."""
    return {
        "dba_name": record.get("dba_name"),
        "identifiers": dict(record.get("identifiers") or {}),
        "external_ids": dict(record.get("external_ids") or {}),
    }


def new_party_identifiers(tax_id: TaxId, record: Mapping[str, Any], key_code: str | None) -> list[dict[str, Any]]:
    fields = supplier_fields(record)
    identifiers = [tax_identifier(tax_id)]
    if fields["dba_name"]:
        identifiers.append(untyped(DBA_PREFIX + fields["dba_name"]))
    identifiers += industry_identifiers(fields["identifiers"])
    identifiers += external_identifiers(fields["external_ids"])
    if key_code:
        identifiers.append(untyped(key_code))
    return identifiers


# -- reading parties back --------------------------------------------------------------------------


def _tax_id(identifiers: Iterable[Mapping[str, Any]]) -> TaxId | None:
    for identifier in identifiers:
        kind, code = identifier.get("type"), identifier["code"]
        if kind in TYPED_TAX_KINDS:
            return TaxId(kind=TYPED_TAX_KINDS[kind], value=code)
        if not kind and code.split(":", 1)[0] in {k.value for k in TaxIdKind}:
            prefix, digits = code.split(":", 1)
            return TaxId(kind=TaxIdKind(prefix), value=digits)
    return None


def supplier_from_party(
    party: Mapping[str, Any],
    identifiers: Sequence[Mapping[str, Any]],
    categories: Mapping[int, Mapping[str, Any]],
    payment_terms: Mapping[int, str],
) -> ErpSupplier:
    """One party (with its identifiers, and the names of the categories and terms it points at)
    as the ERP port's supplier."""
    own = [i for i in identifiers if not i.get("address")]
    codes = [i["code"] for i in own if not i.get("type")]
    names = [categories[c] for c in party.get("categories") or [] if c in categories]
    held = any(c["name"] == HOLD_CATEGORY and not c.get("parent") for c in names)
    if not party.get("active", True):
        status = ErpSupplierStatus.INACTIVE
    else:
        status = ErpSupplierStatus.ON_HOLD if held else ErpSupplierStatus.ACTIVE
    hold_reasons = [code.removeprefix(HOLD_PREFIX) for code in codes if is_hold_reason(code)]
    term = party.get("supplier_payment_term")
    return ErpSupplier(
        erp_supplier_id=party["code"],
        legal_name=party.get("name") or "",
        tax_id=_tax_id(own),
        status=status,
        hold_reason=hold_reasons[0] if hold_reasons else None,
        payment_terms=payment_terms.get(term) if term else None,
        identifiers=dict(code.split(":", 1) for code in codes if is_industry(code)),
        categories=[c["name"] for c in names if not c.get("parent") and c["name"] not in OWN_CATEGORIES],
        external_ids=dict(code.removeprefix(EXTERNAL_PREFIX).split(":", 1) for code in codes if is_external(code)),
    )


def external_id_matches(supplier: ErpSupplier, external_id: str | None) -> bool:
    return external_id is None or external_id in supplier.external_ids.values()


def party_domain(*, tax_id: str | None, name: str | None, status: str | None, external_id: str | None) -> list[Any]:
    """The Tryton search domain for `list_suppliers`' filters (an external id is matched loosely
    here, exactly by `external_id_matches`)."""
    domain: list[Any] = [("code", "like", like_literal(SUPPLIER_CODE_PREFIX) + "%")]
    if tax_id:
        domain.append(("identifiers", "where", [("code_compact", "in", tax_id_codes(tax_id))]))
    if name:
        text = like_literal(name)
        domain.append(
            ["OR", ("name", "ilike", f"%{text}%"), ("identifiers.code", "ilike", f"{like_literal(DBA_PREFIX)}%{text}%")]
        )
    if status == ErpSupplierStatus.INACTIVE:
        domain.append(("active", "=", False))
    elif status in (ErpSupplierStatus.ACTIVE, ErpSupplierStatus.ON_HOLD):
        operator = "where" if status == ErpSupplierStatus.ON_HOLD else "not where"
        domain += [("active", "=", True), ("categories", operator, [("name", "=", HOLD_CATEGORY)])]
    elif status:
        domain.append(("id", "=", -1))  # no supplier has an unknown status
    if external_id:
        pattern = f"{like_literal(EXTERNAL_PREFIX)}%:{like_literal(external_id)}"
        domain.append(("identifiers.code", "like", pattern))
    return domain


# -- writes shared by create_supplier and the seed -------------------------------------------------


async def category_ids(rpc: TrytonRpc, names: Sequence[str], parent: int | None = None) -> list[int]:
    """The ids of these party categories (under `parent`), making the missing ones."""
    if not names:
        return []
    found = await rpc.search_read("party.category", [("name", "in", list(names)), ("parent", "=", parent)], ["name"])
    ids = {row["name"]: row["id"] for row in found}
    missing = [name for name in dict.fromkeys(names) if name not in ids]
    if missing:
        made = await rpc.create("party.category", [{"name": name, "parent": parent} for name in missing])
        ids.update(zip(missing, made, strict=True))
    return [ids[name] for name in dict.fromkeys(names)]


async def without_values(write: Any, what: str) -> list[int]:
    """Awaits a create whose refusal might quote a tax id or account number, and re-raises it in
    our words only (the code kept)."""
    try:
        return list(await write)
    except NotFoundError:
        raise
    except BusinessRuleError as error:
        raise BusinessRuleError(SYSTEM, error.code, f"tryton refused {what}", status=error.status) from None


async def payment_term_id(rpc: TrytonRpc, name: str) -> int:
    found = await rpc.search_read("account.invoice.payment_term", [("name", "=", name)], ["id"], limit=1)
    if not found:
        raise BusinessRuleError(SYSTEM, "unknown_payment_terms", f"tryton has no payment term {name!r}", status=422)
    return int(found[0]["id"])


async def create_party(
    rpc: TrytonRpc, record: Mapping[str, Any], *, tax_id: TaxId, key_code: str | None = None, code: str | None = None
) -> int:
    """The one mapping from a draft (or seed record) to a new party, made in one `create` (a seed
    supplier that is inactive is archived by a second write: Tryton refuses to create an archived
    party, and the seed is repeatable)."""
    categories = await category_ids(rpc, list(record.get("categories") or []))
    if record.get("diversity"):
        root = (await category_ids(rpc, [DIVERSITY_CATEGORY]))[0]
        categories += await category_ids(rpc, list(record["diversity"]), parent=root)
    if record.get("status") == "on_hold":
        categories += await category_ids(rpc, [HOLD_CATEGORY])
    values: dict[str, Any] = {
        "name": record["legal_name"],
        "identifiers": [("create", new_party_identifiers(tax_id, record, key_code))],
        "categories": [("add", categories)],
        "supplier_payment_term": await payment_term_id(rpc, record["payment_terms"]),
    }
    if code:
        values["code"] = code
    party_id = (await without_values(rpc.create("party.party", [values]), "the supplier"))[0]
    if record.get("status") == "inactive":  # Tryton refuses to create an archived party
        await rpc.write("party.party", [party_id], {"active": False})
    return party_id
