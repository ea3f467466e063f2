"""One X12 file through the pipeline (called by activities/intake.py).

Per interchange: an envelope error refuses the interchange as a whole (a TA1 to the partner, the
file to `rejected/` when nothing else in it was taken); an unknown sender dead-letters each of its
transaction sets (a replay takes them once the partner is added); an interchange control number
the partner sent before is a duplicate, not processed twice. Per functional group: each
transaction set is checked (its ST/SE), mapped (domain/x12/map_*.py) and handed on as the same
call a JSON request makes; then the group's 997 (or 999, per partner) goes to the partner and is
kept. The 997 speaks of syntax, as the standard means it: a set that is well formed but names an
unknown PO is accepted there, and dead-lettered here with its reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from temporalio import activity

from activities.intake_routing import route_transaction
from adapters.contracts import ContractsPort
from adapters.intake_dispatch import IntakeDispatchPort
from adapters.intake_store import IntakeStorePort
from adapters.vendor_channel import VendorChannelPort
from domain.intake import (
    EdiIdentity,
    IntakeDeadLetter,
    IntakeFileInput,
    IntakeRecord,
    IntakeResult,
    Partner,
    RecordOutcome,
)
from domain.x12.acks import functional_ack, ta1
from domain.x12.context import MappingContext, MappingError, ReferenceData
from domain.x12.model import FunctionalGroup, Interchange, TransactionSet
from domain.x12.reader import read_interchanges
from domain.x12.writer import ControlNumbers, Party

X12_PREFIX = "x12:"
SIDE_BY_SIDE = 16  # transaction sets of a group handed on at once (each is a few server round trips)


def position_of(interchange: Interchange, group: FunctionalGroup, ts: TransactionSet) -> str:
    return (f"ISA {interchange.control_number} / GS {group.control_number} / ST {ts.control_number} "
            f"(segment {ts.position})")  # fmt: skip


def envelope_text(interchange: Interchange, group: FunctionalGroup, ts: TransactionSet) -> str:
    """The transaction set alone in its own envelope (the same headers, counts of one): what a
    dead letter keeps, so a replay reads it as the partner sent it."""
    d = interchange.delimiters
    sep, end = d.element, d.segment

    def line(tag: str, *elements: str) -> str:
        return sep.join((tag, *elements)) + end

    isa = line("ISA", "00", " " * 10, "00", " " * 10, interchange.sender_qualifier, f"{interchange.sender_id:<15}",
               interchange.receiver_qualifier, f"{interchange.receiver_id:<15}", interchange.date, interchange.time,
               d.repetition or "U", interchange.version, interchange.control_number,
               "1" if interchange.ack_requested else "0", interchange.usage, d.component)  # fmt: skip
    gs = line("GS", group.functional_id, group.sender, group.receiver, group.date, group.time, group.control_number,
              "X", group.version)  # fmt: skip
    body = "".join(line(s.tag, *s.elements) for s in ts.segments)
    return isa + gs + body + line("GE", "1", group.control_number) + line("IEA", "1", interchange.control_number)


class X12Intake:
    def __init__(
        self,
        *,
        store: IntakeStorePort,
        dispatch: IntakeDispatchPort,
        contracts: ContractsPort,
        vendor_channel: VendorChannelPort,
        ours: EdiIdentity,
    ) -> None:
        self._store = store
        self._dispatch = dispatch
        self._contracts = contracts
        self._vendor_channel = vendor_channel
        self._us = Party(ours.isa_qualifier, ours.isa_id, ours.gs_id)

    async def process(self, params: IntakeFileInput, data: bytes, result: IntakeResult) -> None:
        interchanges = read_interchanges(data)
        reference = await self._reference()
        refusals = []
        for interchange in interchanges:
            refused = await self._interchange(params, interchange, reference, result)
            if refused:
                refusals.append(refused)
        if refusals and not result.records and result.duplicate_of is None:
            result.refused = "; ".join(refusals)

    async def replay(self, params: IntakeFileInput, letter: IntakeDeadLetter) -> IntakeRecord:
        """The dead letter's transaction set again (its own envelope), without a new 997: the
        partner had its acknowledgement when the file came."""
        interchanges = read_interchanges(letter.raw.encode())
        if not interchanges or not interchanges[0].groups or not interchanges[0].groups[0].transactions:
            raise ValueError(f"dead letter {letter.id} holds no transaction set")
        interchange = interchanges[0]
        group, ts = interchange.groups[0], interchange.groups[0].transactions[0]
        partner = await asyncio.to_thread(self._store.partner_by_sender, interchange.sender_qualifier,
                                          interchange.sender_id)  # fmt: skip
        reference = await self._reference()
        return await self._transaction(params, interchange, group, ts, partner, reference, replay_of=letter.id)

    async def _reference(self) -> ReferenceData:
        items, locations = await asyncio.gather(self._contracts.list_items(), self._contracts.list_locations())
        return ReferenceData(items, locations)

    async def _interchange(
        self, params: IntakeFileInput, interchange: Interchange, reference: ReferenceData, result: IntakeResult
    ) -> str | None:
        """Takes the interchange; returns why it was refused as a whole, or None."""
        partner = await asyncio.to_thread(self._store.partner_by_sender, interchange.sender_qualifier,
                                          interchange.sender_id)  # fmt: skip
        if interchange.errors:
            first = interchange.errors[0]
            reason = f"interchange {interchange.control_number}: {first.message} (TA1 {first.code})"
            control = await self._control_number(partner)
            text = ta1(interchange, first.code, control=control, now=datetime.now(UTC), us=self._us)
            await self._send(params, partner, "TA1", interchange.control_number, text,
                             f"ta1-{interchange.control_number}")  # fmt: skip
            result.acknowledgements.append(f"TA1 {interchange.control_number}")
            return reason
        if partner is not None:
            taken = await asyncio.to_thread(self._store.claim_interchange, partner.partner_id,
                                            interchange.control_number, params.file_id)  # fmt: skip
            if taken is not None:
                result.duplicate_of = f"intake-{taken[:24]}"
                return None
        for group in interchange.groups:
            sets = group.transactions
            for start in range(0, len(sets), SIDE_BY_SIDE):  # records are independent: a few at a time
                batch = sets[start : start + SIDE_BY_SIDE]
                result.records += await asyncio.gather(
                    *(self._transaction(params, interchange, group, ts, partner, reference) for ts in batch)
                )
                activity.heartbeat(f"{group.control_number}:{start + len(batch)}")
            if partner is not None:
                kind = partner.functional_ack
                errors = [*group.errors, *(error for ts in group.transactions for error in ts.errors)]
                control = await self._control_number(partner)
                text = functional_ack(interchange, group, errors, kind=kind, now=datetime.now(UTC), us=self._us,
                                      control=ControlNumbers(interchange=control, group=control))  # fmt: skip
                await self._send(params, partner, kind, group.control_number, text, f"{kind}-{group.control_number}")
                result.acknowledgements.append(f"{kind} {group.control_number}")
        return None

    async def _transaction(
        self,
        params: IntakeFileInput,
        interchange: Interchange,
        group: FunctionalGroup,
        ts: TransactionSet,
        partner: Partner | None,
        reference: ReferenceData,
        replay_of: int | None = None,
    ) -> IntakeRecord:
        """A replayed record keeps a position of its own, so failing again is a new dead letter."""
        position, kind = position_of(interchange, group, ts), f"{X12_PREFIX}{ts.code}"
        if replay_of is not None:
            position += f" (replay of dead letter {replay_of})"

        def dead(reason: str, key: str | None = None, details: dict[str, Any] | None = None) -> Awaitable[IntakeRecord]:
            letter = IntakeDeadLetter(file_id=params.file_id, file_name=params.name, kind=kind, position=position,
                                      partner_id=partner.partner_id if partner else None, key=key, reason=reason,
                                      raw=envelope_text(interchange, group, ts), details=details or {})  # fmt: skip
            return self.dead_letter(letter)

        if partner is None:
            sender = f"{interchange.sender_qualifier}/{interchange.sender_id}"
            return await dead(f"unknown trading partner {sender}: add it (supplybridge partners add) and replay")
        if ts.errors:
            return await dead("; ".join(f"{e.message} (code {e.code})" for e in ts.errors))
        if ts.code not in partner.transaction_sets:
            return await dead(f"partner {partner.partner_id} does not exchange {ts.code} with us")
        context = MappingContext.for_transaction(interchange, group, ts, reference=reference,
                                                 supplier_id=partner.supplier_id)  # fmt: skip
        try:
            handled = await route_transaction(ts, context, self._dispatch, self._contracts, params.submitted_by)
        except MappingError as error:
            return await dead(str(error), details={"error": error.as_dict()})
        if handled.outcome is RecordOutcome.DEAD_LETTER:
            return await dead(handled.reason or "not taken", handled.key)
        if handled.outcome is RecordOutcome.ACKNOWLEDGED and handled.key:  # a 997/999 for an interchange of ours
            await asyncio.to_thread(self._store.record_edi_message, "in", partner.partner_id, ts.code, handled.key,
                                    envelope_text(interchange, group, ts), None)  # fmt: skip
        return IntakeRecord(position=position, kind=kind, key=handled.key, outcome=handled.outcome,
                            workflow_id=handled.workflow_id, reason=handled.reason)  # fmt: skip

    async def dead_letter(self, letter: IntakeDeadLetter) -> IntakeRecord:
        """Keep it (once per file, position and kind) and say so in the file's result."""
        kept = await asyncio.to_thread(self._store.add_dead_letter, letter)
        return IntakeRecord(position=letter.position, kind=letter.kind, key=letter.key, reason=letter.reason,
                            outcome=RecordOutcome.DEAD_LETTER, dead_letter_id=kept.id)  # fmt: skip

    async def _control_number(self, partner: Partner | None) -> int:
        return await asyncio.to_thread(self._store.next_control_number, partner.partner_id if partner else "unknown")

    async def _send(
        self, params: IntakeFileInput, partner: Partner | None, kind: str, control: str, text: str, key: str
    ) -> None:
        """Deliver an acknowledgement to the partner's outbound channel, and keep it."""
        partner_id = partner.partner_id if partner else None
        await asyncio.to_thread(self._store.record_edi_message, "out", partner_id, kind, control, text,
                                params.file_id)  # fmt: skip
        if partner is not None and partner.outbound == "vendor_channel_edi":
            await self._vendor_channel.send_edi(partner.partner_id, text,
                                                idempotency_key=f"{params.file_id}:{key}")  # fmt: skip
