"""`VendorChannelPort` for suppliers that trade by X12: a PO to a trading partner whose registry
entry says `edi_only` goes out as an X12 850 (the partner's ids, our GLNs, GTINs and the contract
number) through the vendor channel's EDI endpoint instead of the JSON notification; the 997 the
partner answers is kept with the 850. Every other supplier, and every other call, goes to the
channel as before. Wired by worker.py around the HTTP vendor channel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from adapters.contracts import ContractsPort
from adapters.intake_store import IntakeStorePort
from adapters.vendor_channel import VendorChannelPort
from domain.intake import EdiIdentity
from domain.purchasing import PoAcknowledgement, PurchaseOrder
from domain.system_records import VendorNotification
from domain.x12.context import ReferenceData
from domain.x12.outbound import purchase_order_850
from domain.x12.writer import ControlNumbers, Party


class EdiAwareVendorChannel:
    def __init__(
        self, channel: VendorChannelPort, partners: IntakeStorePort, contracts: ContractsPort, ours: EdiIdentity
    ) -> None:
        self._channel = channel
        self._partners = partners
        self._contracts = contracts
        self._us = Party(ours.isa_qualifier, ours.isa_id, ours.gs_id)

    async def send_purchase_order(self, notification: VendorNotification, *, idempotency_key: str) -> None:
        partner = await asyncio.to_thread(self._partners.partner_for_supplier, notification.supplier_id)
        if partner is None or not partner.edi_only or "850" not in partner.transaction_sets:
            await self._channel.send_purchase_order(notification, idempotency_key=idempotency_key)
            return
        items, locations = await asyncio.gather(self._contracts.list_items(), self._contracts.list_locations())
        control = await asyncio.to_thread(self._partners.next_control_number, partner.partner_id)
        po = PurchaseOrder(
            po_number=notification.po_number, supplier_id=notification.supplier_id,
            contract_ref=notification.contract_ref, ship_to=notification.ship_to,
            bill_to=notification.bill_to or notification.ship_to, requester=notification.requester or "purchasing",
            currency=notification.currency, order_date=notification.order_date, need_by=notification.need_by,
            shipping="expedited" if notification.shipping == "expedited" else "standard", lines=notification.lines,
        )  # fmt: skip
        text = purchase_order_850(
            po, partner=Party(partner.isa_qualifier, partner.isa_id, partner.gs_id), us=self._us,
            reference=ReferenceData(items, locations), control=ControlNumbers(interchange=control, group=control),
            now=datetime.now(UTC), gs_version=partner.x12_version,
        )  # fmt: skip
        await asyncio.to_thread(self._partners.record_edi_message, "out", partner.partner_id, "850", str(control), text,
                                po.po_number)  # fmt: skip
        answer = await self._channel.send_edi(partner.partner_id, text, idempotency_key=idempotency_key)
        if answer:
            await asyncio.to_thread(self._partners.record_edi_message, "in", partner.partner_id, "997", str(control),
                                    answer, po.po_number)  # fmt: skip

    async def cancel_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> None:
        await self._channel.cancel_purchase_order(po_number, reason, idempotency_key=idempotency_key)

    async def get_acknowledgement(self, po_number: str) -> PoAcknowledgement | None:
        return await self._channel.get_acknowledgement(po_number)

    async def send_edi(self, partner_id: str, text: str, *, idempotency_key: str) -> str | None:
        return await self._channel.send_edi(partner_id, text, idempotency_key=idempotency_key)
