"""Procure-to-pay activities: thin calls to the ERP, contract management, vendor management,
inventory and the vendor channel for the purchase-order workflow (the invoice workflow's are in
activities/invoicing.py). Every change carries an idempotency key derived from the workflow id,
so a retried activity never creates a second PO, receipt or reservation.

The PO workflow runs these as local activities (short calls, fewer server round trips); the
status-sync workflow runs `hold_supplier_purchase_orders` as a normal activity.
"""

from __future__ import annotations

import asyncio
import contextlib

from temporalio import activity

from activities.errors import translate_adapter_errors
from adapters.contracts import ContractsPort
from adapters.erp import ErpPort
from adapters.erp_procurement import ErpProcurementPort
from adapters.errors import BusinessRuleError, NotFoundError
from adapters.inventory import InventoryPort
from adapters.vendor_channel import VendorChannelPort
from adapters.vendor_management import VendorManagementPort
from domain.po_models import (
    ApplyAckInput,
    CreatePoInput,
    Done,
    ErpPoState,
    HoldPurchaseOrdersInput,
    HoldPurchaseOrdersResult,
    InventoryCheckInput,
    InventoryPosition,
    NotifyVendorInput,
    PoActionInput,
    ProcurementTerms,
    RecordReceiptInput,
    ReleaseInput,
    ReserveInput,
    ReserveResult,
    SupplierCheckInput,
    SupplierStanding,
    TermsInput,
)
from domain.purchasing import Receipt
from domain.reference import Contract
from domain.system_records import ErpPoStatus


async def find_contract(contracts: ContractsPort, contract_ref: str | None) -> Contract | None:
    """The contract, or None when there is no reference or contract management has none."""
    if contract_ref is None:
        return None
    try:
        return await contracts.get_contract(contract_ref)
    except NotFoundError:
        return None


async def supplier_standing(
    erp: ErpPort, vendor_management: VendorManagementPort, supplier_id: str
) -> SupplierStanding:
    """What the ERP and vendor management say of a supplier: the facts a PO's validation and
    replenishment sourcing both judge (domain/po_rules.py, domain/replenishment.py)."""
    try:
        supplier, registration = await asyncio.gather(
            erp.get_supplier(supplier_id), vendor_management.find_registration(supplier_id)
        )
    except NotFoundError:
        return SupplierStanding(supplier_id=supplier_id, exists=False)
    return SupplierStanding(
        supplier_id=supplier_id,
        exists=True,
        erp_status=supplier.status.value,
        hold_reason=supplier.hold_reason,
        vendor_status=registration.status if registration else None,
        credentials=registration.documents if registration else [],
    )


class ProcurementActivities:
    def __init__(
        self,
        *,
        erp: ErpPort,
        procurement: ErpProcurementPort,
        contracts: ContractsPort,
        vendor_management: VendorManagementPort,
        inventory: InventoryPort,
        vendor_channel: VendorChannelPort,
    ) -> None:
        self._erp = erp
        self._procurement = procurement
        self._contracts = contracts
        self._vendor_management = vendor_management
        self._inventory = inventory
        self._vendor_channel = vendor_channel

    # --- purchase order checks (run side by side) ---------------------------------------------

    @activity.defn(name="check_supplier_standing")
    @translate_adapter_errors
    async def check_supplier_standing(self, params: SupplierCheckInput) -> SupplierStanding:
        return await supplier_standing(self._erp, self._vendor_management, params.supplier_id)

    @activity.defn(name="get_procurement_terms")
    @translate_adapter_errors
    async def get_procurement_terms(self, params: TermsInput) -> ProcurementTerms:
        found, items, locations = await asyncio.gather(
            find_contract(self._contracts, params.contract_ref),
            self._contracts.list_items(),
            self._contracts.list_locations(),
        )
        wanted = set(params.item_ids)
        return ProcurementTerms(
            contract=found,
            items={item.item_id: item for item in items if item.item_id in wanted},
            locations=[location.location_id for location in locations],
        )

    @activity.defn(name="check_inventory")
    @translate_adapter_errors
    async def check_inventory(self, params: InventoryCheckInput) -> InventoryPosition:
        return InventoryPosition(balances=await self._inventory.get_balances(params.location_id, params.item_ids))

    # --- purchase order changes -----------------------------------------------------------------

    @activity.defn(name="create_po_in_erp")
    @translate_adapter_errors
    async def create_po_in_erp(self, params: CreatePoInput) -> ErpPoState:
        try:
            po = await self._procurement.create_purchase_order(params.po, idempotency_key=params.idempotency_key)
        except BusinessRuleError as error:
            if error.code != "duplicate_po_number":
                raise
            # Created by an earlier run of this same PO workflow (its key differs): take it
            # when it is the same order, refuse otherwise.
            po = await self._procurement.get_purchase_order(params.po.po_number)
            if po.supplier_id != params.po.supplier_id or po.status is not ErpPoStatus.OPEN:
                raise
        return ErpPoState(po=po)

    @activity.defn(name="reserve_inventory")
    @translate_adapter_errors
    async def reserve_inventory(self, params: ReserveInput) -> ReserveResult:
        made = await asyncio.gather(
            *(
                self._inventory.reserve(request, idempotency_key=f"{params.idempotency_prefix}:line-{line}")
                for line, request in params.reservations
            )
        )
        return ReserveResult(
            reservation_ids=[(line, r.reservation_id) for (line, _), r in zip(params.reservations, made, strict=True)]
        )

    @activity.defn(name="release_reservations")
    @translate_adapter_errors
    async def release_reservations(self, params: ReleaseInput) -> Done:
        await asyncio.gather(
            *(
                self._inventory.release(rid, idempotency_key=f"{params.idempotency_prefix}:{rid}")
                for rid in params.reservation_ids
            )
        )
        return Done()

    @activity.defn(name="notify_vendor")
    @translate_adapter_errors
    async def notify_vendor(self, params: NotifyVendorInput) -> Done:
        await self._vendor_channel.send_purchase_order(params.notification, idempotency_key=params.idempotency_key)
        return Done()

    @activity.defn(name="cancel_po_with_vendor")
    @translate_adapter_errors
    async def cancel_po_with_vendor(self, params: PoActionInput) -> Done:
        await self._vendor_channel.cancel_purchase_order(
            params.po_number, params.reason, idempotency_key=params.idempotency_key
        )
        return Done()

    @activity.defn(name="cancel_po_in_erp")
    @translate_adapter_errors
    async def cancel_po_in_erp(self, params: PoActionInput) -> Done:
        with contextlib.suppress(NotFoundError):  # the create never reached the ERP: nothing to cancel
            await self._procurement.cancel_purchase_order(
                params.po_number, params.reason, idempotency_key=params.idempotency_key
            )
        return Done()

    @activity.defn(name="close_po_in_erp")
    @translate_adapter_errors
    async def close_po_in_erp(self, params: PoActionInput) -> ErpPoState:
        po = await self._procurement.close_purchase_order(
            params.po_number, params.reason, idempotency_key=params.idempotency_key
        )
        return ErpPoState(po=po)

    @activity.defn(name="apply_acknowledgement_in_erp")
    @translate_adapter_errors
    async def apply_acknowledgement_in_erp(self, params: ApplyAckInput) -> ErpPoState:
        po = None
        for line, change in params.changes:  # one at a time: each answer is the whole PO
            po = await self._procurement.change_po_line(
                params.po_number, line, change, idempotency_key=f"{params.idempotency_prefix}:line-{line}"
            )
        await asyncio.gather(
            *(
                self._inventory.release(rid, idempotency_key=f"{params.idempotency_prefix}:release-{rid}")
                for rid in params.release_reservation_ids
            )
        )
        return ErpPoState(po=po or await self._procurement.get_purchase_order(params.po_number))

    @activity.defn(name="record_receipt")
    @translate_adapter_errors
    async def record_receipt(self, params: RecordReceiptInput) -> Receipt:
        receipt = await self._procurement.record_receipt(
            params.po_number, [params.line], received_by=params.received_by, idempotency_key=params.idempotency_key
        )
        if params.reservation_id:
            await self._inventory.fulfil(
                params.reservation_id,
                params.line.quantity,
                params.line.uom,
                idempotency_key=f"{params.idempotency_key}:fulfil",
            )
        return receipt

    @activity.defn(name="hold_supplier_purchase_orders")
    @translate_adapter_errors
    async def hold_supplier_purchase_orders(self, params: HoldPurchaseOrdersInput) -> HoldPurchaseOrdersResult:
        """Put every open ERP PO of the supplier on hold (or release the supplier-status holds)."""
        changed: list[str] = []
        async for po in self._procurement.list_purchase_orders(supplier_id=params.supplier_id, status="open"):
            key = f"{params.idempotency_prefix}:{po.po_number}"
            if params.on_hold:
                await self._procurement.hold_purchase_order(
                    po.po_number, params.reason, kind="supplier_status", idempotency_key=key
                )
            elif po.hold is not None and po.hold.kind == "supplier_status":
                await self._procurement.release_purchase_order(po.po_number, params.reason, idempotency_key=key)
            else:
                continue
            changed.append(po.po_number)
        return HoldPurchaseOrdersResult(po_numbers=changed)
