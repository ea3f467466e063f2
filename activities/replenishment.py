"""Replenishment activities: read a location's stock of an item (on order and in transit
counted), the contracts that price it with the standing of their suppliers, and the scan that
hands every balance at or below its reorder point to its replenishment (the safety net for a
breach event that was lost)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from temporalio import activity

from activities.errors import translate_adapter_errors
from activities.procurement import supplier_standing
from adapters.contracts import ContractsPort
from adapters.erp import ErpPort
from adapters.inventory import InventoryPort
from adapters.replenishment_events import ReplenishmentEventsPort
from adapters.vendor_management import VendorManagementPort
from domain.replenishment import StockPosition
from domain.replenishment_models import (
    ScanInput,
    ScanResult,
    Sources,
    SourcesInput,
    StockAssessment,
    StockBreach,
    StockInput,
)

SCAN_HEARTBEAT_EVERY = 50


class ReplenishmentActivities:
    def __init__(
        self,
        *,
        inventory: InventoryPort,
        contracts: ContractsPort,
        erp: ErpPort,
        vendor_management: VendorManagementPort,
        replenishments: ReplenishmentEventsPort,
    ) -> None:
        self._inventory = inventory
        self._contracts = contracts
        self._erp = erp
        self._vendor_management = vendor_management
        self._replenishments = replenishments

    @activity.defn(name="read_stock")
    @translate_adapter_errors
    async def read_stock(self, params: StockInput) -> StockAssessment:
        """The balance as a stock position (on order: the open reservations of POs for the
        location; in transit: what the inventory system reports shipped) and the item."""
        balances, items = await asyncio.gather(
            self._inventory.get_balances(params.location_id, [params.item_id]), self._contracts.list_items()
        )
        item = next((i for i in items if i.item_id == params.item_id), None)
        balance = next((b for b in balances if b.item_id == params.item_id), None)
        where = f"{params.item_id} at {params.location_id}"
        if item is None:
            return StockAssessment(missing=f"item {params.item_id} is not in the item master")
        if balance is None:
            return StockAssessment(item=item, missing=f"the inventory system holds no balance of {where}")
        if balance.par is None or balance.reorder_point is None:
            return StockAssessment(item=item, missing=f"{where} has no par level or reorder point")
        position = StockPosition(
            location_id=balance.location_id,
            item_id=balance.item_id,
            uom=balance.uom,
            on_hand=balance.on_hand,
            par=balance.par,
            reorder_point=balance.reorder_point,
            on_order=balance.reserved,
            in_transit=getattr(balance, "in_transit", Decimal(0)),
        )
        return StockAssessment(position=position, item=item)

    @activity.defn(name="find_sources")
    @translate_adapter_errors
    async def find_sources(self, params: SourcesInput) -> Sources:
        """Every contract pricing the item and the standing of each supplier (of those contracts
        and any a person named), read side by side."""
        contracts = await self._contracts.contracts_pricing(params.item_id)
        suppliers = sorted({c.supplier_id for c in contracts if c.supplier_id} | set(params.extra_supplier_ids))
        standings = await asyncio.gather(
            *(supplier_standing(self._erp, self._vendor_management, supplier) for supplier in suppliers)
        )
        return Sources(contracts=contracts, standings={s.supplier_id: s for s in standings})

    @activity.defn(name="scan_for_breaches")
    @translate_adapter_errors
    async def scan_for_breaches(self, params: ScanInput) -> ScanResult:
        """Hand every balance at or below its reorder point to its replenishment. A breach whose
        replenishment is open joins it; one that cannot be delivered is reported, and the
        others still are (one bad balance never hides another)."""
        result = ScanResult()
        balances = await self._inventory.below_reorder_point()
        result.balances_read = len(balances)
        for done, balance in enumerate(balances, start=1):
            if balance.reorder_point is None:
                continue
            breach = StockBreach(
                event_id=f"{params.scan_id}:{balance.location_id}:{balance.item_id}",
                location_id=balance.location_id,
                item_id=balance.item_id,
                uom=balance.uom,
                on_hand=balance.on_hand,
                reorder_point=balance.reorder_point,
                par=balance.par,
                occurred_at=params.scanned_at,
                source="scan",
            )
            try:
                result.breaches.append(await self._replenishments.deliver(breach, params.policy))
            except Exception as error:
                result.failures.append(f"{balance.location_id}/{balance.item_id}: {error}")
            if done % SCAN_HEARTBEAT_EVERY == 0:
                activity.heartbeat(done)
        return result
