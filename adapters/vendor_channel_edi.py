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
from domain.intake import EdiIdentity, Partner
from domain.purchasing import PoAcknowledgement, PurchaseOrder
from domain.system_records import VendorNotification
from domain.x12.context import MappingContext, ReferenceData
from domain.x12.map_850 import map_850
from domain.x12.outbound import purchase_order_850
from domain.x12.reader import read_interchanges
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
        po = PurchaseOrder(
            po_number=notification.po_number, supplier_id=notification.supplier_id,
            contract_ref=notification.contract_ref, ship_to=notification.ship_to,
            bill_to=notification.bill_to or notification.ship_to, requester=notification.requester or "purchasing",
            currency=notification.currency, order_date=notification.order_date, need_by=notification.need_by,
            shipping="expedited" if notification.shipping == "expedited" else "standard", lines=notification.lines,
        )  # fmt: skip
        await self._send_850(partner, po, "00", idempotency_key)

    async def cancel_purchase_order(self, po_number: str, reason: str, *, idempotency_key: str) -> None:
        """To a partner we sent the 850 to: the same order again as an 850 with BEG01 `01`
        (cancellation), rebuilt from the 850 we kept. Otherwise the channel's own cancel."""
        sent = await asyncio.to_thread(self._partners.edi_messages, direction="out", kind="850", related=po_number)
        original = next((m for m in sent if m.partner_id), None)
        partner_id = original.partner_id if original else None
        partner = await asyncio.to_thread(self._partners.get_partner, partner_id) if partner_id else None
        if original is None or partner is None:
            await self._channel.cancel_purchase_order(po_number, reason, idempotency_key=idempotency_key)
            return
        reference = await self._reference()
        interchange = read_interchanges(original.text.encode())[0]
        group = interchange.groups[0]
        ts = group.transactions[0]
        po = map_850(ts, MappingContext.for_transaction(interchange, group, ts, reference=reference, supplier_id=None))
        await self._send_850(partner, po, "01", idempotency_key)

    async def _reference(self) -> ReferenceData:
        items, locations = await asyncio.gather(self._contracts.list_items(), self._contracts.list_locations())
        return ReferenceData(items, locations)

    async def _send_850(self, partner: Partner, po: PurchaseOrder, purpose: str, idempotency_key: str) -> None:
        """The 850 to the partner (kept, with the 997 it answers at once, if any)."""
        reference = await self._reference()
        control = await asyncio.to_thread(self._partners.next_control_number, partner.partner_id)
        text = purchase_order_850(
            po, partner=Party(partner.isa_qualifier, partner.isa_id, partner.gs_id), us=self._us, reference=reference,
            control=ControlNumbers(interchange=control, group=control), now=datetime.now(UTC),
            gs_version=partner.x12_version, purpose=purpose,
        )  # fmt: skip
        await asyncio.to_thread(self._partners.record_edi_message, "out", partner.partner_id, "850", str(control), text,
                                po.po_number)  # fmt: skip
        answer = await self._channel.send_edi(partner.partner_id, text, idempotency_key=idempotency_key)
        if answer:
            await asyncio.to_thread(self._partners.record_edi_message, "in", partner.partner_id, "997", str(control),
                                    answer, po.po_number)  # fmt: skip

    async def get_acknowledgement(self, po_number: str) -> PoAcknowledgement | None:
        return await self._channel.get_acknowledgement(po_number)

    async def send_edi(self, partner_id: str, text: str, *, idempotency_key: str) -> str | None:
        return await self._channel.send_edi(partner_id, text, idempotency_key=idempotency_key)
