"""Status-sync activities: find the ERP supplier of a vendor, put it on hold or release it."""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.errors import translate_adapter_errors
from adapters.erp import ErpPort
from adapters.store import StorePort
from domain.onboarding import ErpSupplierState
from domain.status_sync import ErpAction, ErpHoldInput, ResolveErpSupplierInput, ResolveErpSupplierResult


class StatusSyncActivities:
    def __init__(self, *, erp: ErpPort, store: StorePort) -> None:
        self._erp = erp
        self._store = store

    @activity.defn(name="resolve_erp_supplier")
    @translate_adapter_errors
    async def resolve_erp_supplier(self, params: ResolveErpSupplierInput) -> ResolveErpSupplierResult:
        """The event's own ERP id first, then our cross-reference, then the ERP's external ids."""
        if params.erp_supplier_id_hint:
            return ResolveErpSupplierResult(erp_supplier_id=params.erp_supplier_id_hint)
        ref = await asyncio.to_thread(
            self._store.find_cross_reference, "supplier", "vendor_management", params.vendor_id, "erp"
        )
        if ref is not None:
            return ResolveErpSupplierResult(erp_supplier_id=ref.target_id)
        async for supplier in self._erp.list_suppliers(external_id=params.vendor_id):
            return ResolveErpSupplierResult(erp_supplier_id=supplier.erp_supplier_id)
        return ResolveErpSupplierResult(erp_supplier_id=None)

    @activity.defn(name="apply_erp_hold")
    @translate_adapter_errors
    async def apply_erp_hold(self, params: ErpHoldInput) -> ErpSupplierState:
        if params.action is ErpAction.HOLD:
            supplier = await self._erp.place_hold(
                params.erp_supplier_id, params.reason, idempotency_key=params.idempotency_key
            )
        else:
            supplier = await self._erp.release_hold(
                params.erp_supplier_id, params.reason, idempotency_key=params.idempotency_key
            )
        return ErpSupplierState(
            erp_supplier_id=supplier.erp_supplier_id,
            status=supplier.status.value,
            hold_reason=supplier.hold_reason,
        )
