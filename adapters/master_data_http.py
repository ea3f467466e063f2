"""`MasterDataPort` over HTTP for the four systems that hold supplier and item master data (the
sandbox's `/vendor-management`, `/erp`, `/contracts`, `/analytics`): the mapping of each system's
shape to the canonical fields of adapters/master_data.py and back. The helpers that build canonical
values (`record`, `digits`, `fingerprint`, `last4`, `address`, `item_keys`) are shared with the
Tryton ERP's master data (adapters/tryton/master_data.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from adapters.errors import BusinessRuleError
from adapters.http import SystemClient
from domain.master_data.matching import SystemRecord
from domain.master_data.policy import Entity, MasterSystem
from domain.master_data.survivorship import FieldValue

VM, ERP, CONTRACTS, ANALYTICS = (MasterSystem.VENDOR_MANAGEMENT, MasterSystem.ERP, MasterSystem.CONTRACTS,
                                 MasterSystem.ANALYTICS)  # fmt: skip
VM_HOLD_STATUSES = {"suspended": "hold", "credential_expired": "hold", "active": "active", "reinstated": "active",
                    "inactive": "inactive"}  # fmt: skip
ERP_STATUSES = {"active": "active", "on_hold": "hold", "inactive": "inactive"}
HOLD_REASON = "master-data sync: held in vendor management"
WRITABLE_ERP_STATUSES = ("active", "hold", "inactive")


def refuse_unknown_status(system: str, changes: Mapping[str, Any]) -> None:
    """A supplier status the ERP cannot take is refused before anything is written (both ERPs)."""
    status = changes.get("status")
    if "status" in changes and status not in WRITABLE_ERP_STATUSES:
        raise BusinessRuleError(system, "invalid_status", f"status {status!r} is not active, hold or inactive")


def _when(body: dict[str, Any]) -> datetime | None:
    stamp = body.get("updated_at")
    try:
        return datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        return None


def record(
    system: MasterSystem, local_id: str, body: dict[str, Any], fields: dict[str, Any], **more: Any
) -> SystemRecord:
    stamp = _when(body)
    return SystemRecord(system, local_id, {k: FieldValue(v, stamp) for k, v in fields.items()}, **more)


def digits(value: Any) -> str | None:
    text = "".join(ch for ch in str(value or "") if ch.isdigit())
    return text or None


def _tax_id(body: dict[str, Any]) -> str | None:
    return digits((body.get("tax_id") or {}).get("value"))


def fingerprint(routing_last4: str | None, account_last4: str | None) -> str | None:
    if not routing_last4 and not account_last4:
        return None
    return f"routing ..{routing_last4 or '?'} account ..{account_last4 or '?'}"


def last4(value: Any) -> str | None:
    return "".join(ch for ch in str(value or "") if ch.isalnum())[-4:] or None


def address(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {k: v for k, v in value.items() if k in ("line1", "line2", "city", "state", "postal_code", "country")}


class _HttpSystem:
    system: MasterSystem
    paths: dict[Entity, str]

    def __init__(self, client: SystemClient) -> None:
        self._client = client

    def holds(self, entity: Entity) -> bool:
        return entity in self.paths

    async def read(self, entity: Entity) -> AsyncIterator[SystemRecord]:
        path = self.paths.get(entity)
        if path is None:
            return
        async for body in self._client.paginate(path, self._list_params(entity)):
            yield self._canonical(entity, body)

    def _list_params(self, entity: Entity) -> dict[str, Any]:
        return {}

    def _canonical(self, entity: Entity, body: dict[str, Any]) -> SystemRecord:
        raise NotImplementedError

    def can_write(self, entity: Entity, field: str) -> bool:
        return field in self._writable(entity)

    def _writable(self, entity: Entity) -> frozenset[str]:
        return frozenset()

    def _refuse(self, entity: Entity, fields: Any) -> BusinessRuleError:
        message = f"{self.system.value} does not take {entity.value} fields {sorted(fields)}"
        return BusinessRuleError(self._client.system, "field_not_writable", message)


class HttpVendorManagementMaster(_HttpSystem):
    system = VM
    paths = {Entity.SUPPLIERS: "/registrations"}
    WRITABLE: dict[str, Callable[[Any], tuple[str, Any]]] = {
        "payment_terms": lambda v: ("payment_terms", v),
        "erp_supplier_id": lambda v: ("erp_supplier_id", v),
        "unspsc_categories": lambda v: ("categories", v or []),
        "diversity": lambda v: ("diversity", v or []),
        "legal_name": lambda v: ("legal_name", v),
        "dba_name": lambda v: ("dba_name", v),
        "address": lambda v: ("address", v),
    }

    def _writable(self, entity: Entity) -> frozenset[str]:
        return frozenset(self.WRITABLE) if entity is Entity.SUPPLIERS else frozenset()

    def _canonical(self, entity: Entity, body: dict[str, Any]) -> SystemRecord:
        bank = body.get("bank_account") or {}
        fields = {
            "legal_name": body.get("legal_name"),
            "dba_name": body.get("dba_name"),
            "tax_id": _tax_id(body),
            "status": VM_HOLD_STATUSES.get(str(body.get("status"))),
            "credentials": [
                f"{d.get('kind')}:{d.get('expires_on') or 'no expiry'}" for d in body.get("documents") or []
            ],
            "diversity": body.get("diversity"),
            "address": address(body.get("address")),
            "payment_terms": body.get("payment_terms"),
            "bank_account": fingerprint(last4(bank.get("routing_number")), last4(bank.get("account_number"))),
            "erp_supplier_id": body.get("erp_supplier_id"),
            "unspsc_categories": body.get("categories"),
        }
        links = ((ERP, body["erp_supplier_id"]),) if body.get("erp_supplier_id") else ()
        tax_id = fields["tax_id"]
        return record(VM, body["vendor_id"], body, fields, match_keys={"tax_id": tax_id} if tax_id else {}, links=links)

    async def write(
        self, entity: Entity, record_key: str, local_id: str | None, changes: dict[str, Any], idempotency_key: str
    ) -> None:
        unknown = set(changes) - set(self.WRITABLE)
        if unknown or local_id is None:
            raise self._refuse(entity, unknown or changes)
        body = dict(self.WRITABLE[name](value) for name, value in changes.items())
        path = f"/registrations/{quote(local_id, safe='')}"
        await self._client.request("PATCH", path, json=body, idempotency_key=idempotency_key)


class HttpErpMaster(_HttpSystem):
    system = ERP
    paths = {Entity.SUPPLIERS: "/suppliers", Entity.ITEMS: "/items"}
    HEADER = {"legal_name": "legal_name", "dba_name": "dba_name", "payment_terms": "payment_terms",
              "unspsc_categories": "categories", "diversity": "diversity"}  # fmt: skip
    ITEM = {"description": "description", "gtin": "gtin", "base_unit": "base_uom", "unspsc": "unspsc"}

    def _list_params(self, entity: Entity) -> dict[str, Any]:
        return {"expand": "sites,bank_accounts"} if entity is Entity.SUPPLIERS else {}

    def _writable(self, entity: Entity) -> frozenset[str]:
        if entity is Entity.ITEMS:
            return frozenset(self.ITEM)
        return frozenset({*self.HEADER, "status", "address"}) if entity is Entity.SUPPLIERS else frozenset()

    def _canonical(self, entity: Entity, body: dict[str, Any]) -> SystemRecord:
        if entity is Entity.ITEMS:
            fields = {name: body.get(source) for name, source in self.ITEM.items()}
            return record(ERP, body["item_id"], body, fields, match_keys=item_keys(body))
        sites = [s for s in body.get("sites") or [] if s.get("purpose") == "remit_to"]
        remit: dict[str, Any] = sites[-1] if sites else {}
        bank = (body.get("bank_accounts") or [{}])[-1]
        fields = {
            "legal_name": body.get("legal_name"),
            "dba_name": body.get("dba_name"),
            "tax_id": _tax_id(body),
            "status": ERP_STATUSES.get(str(body.get("status"))),
            "diversity": body.get("diversity"),
            "address": address(remit.get("address")),
            "payment_terms": body.get("payment_terms"),
            "bank_account": fingerprint(bank.get("routing_number_last4"), bank.get("account_number_last4")),
            "erp_supplier_id": body["erp_supplier_id"],
            "unspsc_categories": body.get("categories"),
        }
        vendor_id = (body.get("external_ids") or {}).get("vendor_management")
        tax_id = fields["tax_id"]
        return record(ERP, body["erp_supplier_id"], body, fields, match_keys={"tax_id": tax_id} if tax_id else {},
                       links=((VM, vendor_id),) if vendor_id else ())  # fmt: skip

    async def write(
        self, entity: Entity, record_key: str, local_id: str | None, changes: dict[str, Any], idempotency_key: str
    ) -> None:
        if local_id is None:
            raise self._refuse(entity, changes)  # a supplier is created in the ERP by onboarding, not by a sync
        quoted = quote(local_id, safe="")
        if entity is Entity.ITEMS:
            await self._patch(f"/items/{quoted}", changes, self.ITEM, entity, idempotency_key)
            return
        refuse_unknown_status(self._client.system, changes)
        rest = {k: v for k, v in changes.items() if k not in ("status", "address")}
        if rest:
            await self._patch(f"/suppliers/{quoted}", rest, self.HEADER, entity, idempotency_key)
        if "address" in changes:
            site = {"purpose": "remit_to", "address": changes["address"]}
            await self._client.request("POST", f"/suppliers/{quoted}/sites", json=site,
                                       idempotency_key=f"{idempotency_key}:address")  # fmt: skip
        if "status" in changes:
            action = {"hold": "hold", "active": "release", "inactive": "deactivate"}[changes["status"]]
            await self._client.request("POST", f"/suppliers/{quoted}/{action}", json={"reason": HOLD_REASON},
                                       idempotency_key=f"{idempotency_key}:status")  # fmt: skip

    async def _patch(
        self, path: str, changes: dict[str, Any], names: dict[str, str], entity: Entity, idempotency_key: str
    ) -> None:
        unknown = set(changes) - set(names)
        if unknown:
            raise self._refuse(entity, unknown)
        body = {names[k]: v for k, v in changes.items()}
        await self._client.request("PATCH", path, json=body, idempotency_key=idempotency_key)


class HttpContractsMaster(_HttpSystem):
    system = CONTRACTS
    paths = {Entity.SUPPLIERS: "/suppliers", Entity.ITEMS: "/items", Entity.CONTRACTS: "/contracts"}
    SUPPLIER = {"legal_name": "legal_name", "erp_supplier_id": "erp_supplier_id", "contract_ids": "contract_ids"}
    CONTRACT = {"supplier_id": "supplier_id", "status": "status", "valid_from": "effective_from",
                "valid_to": "effective_to", "gpo": "gpo"}  # fmt: skip
    ITEM = {"description": "description", "gtin": "gtin", "base_unit": "base_uom", "unspsc": "unspsc"}

    def _writable(self, entity: Entity) -> frozenset[str]:
        # the contract system is the contracts' authority: nothing corrects them there
        return {Entity.ITEMS: frozenset(self.ITEM), Entity.SUPPLIERS: frozenset(self.SUPPLIER)}.get(entity, frozenset())

    def _canonical(self, entity: Entity, body: dict[str, Any]) -> SystemRecord:
        if entity is Entity.ITEMS:
            fields = {name: body.get(source) for name, source in self.ITEM.items()}
            return record(CONTRACTS, body["item_id"], body, fields, match_keys=item_keys(body))
        if entity is Entity.CONTRACTS:
            fields = {name: body.get(source) for name, source in self.CONTRACT.items()}
            return record(CONTRACTS, body["contract_id"], body, fields, match_keys={"contract_id": body["contract_id"]})
        fields = {name: body.get(source) for name, source in self.SUPPLIER.items()}
        erp_id = body.get("erp_supplier_id")
        return record(CONTRACTS, body["supplier_ref"], body, fields, links=((ERP, erp_id),) if erp_id else ())

    async def write(
        self, entity: Entity, record_key: str, local_id: str | None, changes: dict[str, Any], idempotency_key: str
    ) -> None:
        names = self.ITEM if entity is Entity.ITEMS else self.SUPPLIER
        unknown = set(changes) - set(names)
        if unknown or local_id is None:
            raise self._refuse(entity, unknown or changes)
        path = f"/{entity.value}/{quote(local_id, safe='')}"
        await self._client.request("PATCH", path, json={names[k]: v for k, v in changes.items()},
                                   idempotency_key=idempotency_key)  # fmt: skip


class HttpAnalyticsMaster(_HttpSystem):
    """The analytics platform keeps golden rows keyed by the golden record's key: a correction
    rewrites the row with the golden record (so `changes` must be the whole golden record)."""

    system = ANALYTICS
    paths = {Entity.SUPPLIERS: "/suppliers", Entity.ITEMS: "/items", Entity.CONTRACTS: "/contracts"}

    def can_write(self, entity: Entity, field: str) -> bool:
        return True  # whole golden rows, created or replaced

    def _canonical(self, entity: Entity, body: dict[str, Any]) -> SystemRecord:
        fields = {k: v for k, v in body.items() if k not in ("key", "updated_at")}
        links = ((VM, body["key"]),) if entity is Entity.SUPPLIERS else ()
        keys = {"contract_id": body["key"]} if entity is Entity.CONTRACTS else {}
        if entity is Entity.ITEMS:
            keys = item_keys({"item_id": body["key"], "gtin": body.get("gtin")})
        return record(ANALYTICS, body["key"], body, fields, links=links, match_keys=keys)

    async def write(
        self, entity: Entity, record_key: str, local_id: str | None, changes: dict[str, Any], idempotency_key: str
    ) -> None:
        path = f"/{entity.value}/{quote(local_id or record_key, safe='')}"
        await self._client.request("PUT", path, json=changes, idempotency_key=idempotency_key)


def item_keys(body: dict[str, Any]) -> dict[str, str]:
    keys = {"item_id": body.get("item_id"), "gtin": body.get("gtin")}
    return {k: str(v) for k, v in keys.items() if v}
