"""Receipts as Tryton incoming shipments (`stock.shipment.in`); the mapping is documented in
adapters/tryton/procurement.py.

Decisions:
- A receipt line takes its quantity (in its own unit) off the purchase line's waiting move: the
  move is written to the received quantity and unit and put in a new shipment whose `reference`
  is our idempotency key; the shipment is then received and done. Processing the purchase again
  makes Tryton create a move for whatever is still to come. With no waiting move left (an
  over-receipt after the line was fully received) a new move for the line is made, copied from
  its earlier one.
- The shipment and its moves are made in ONE `create` (the move writes and new moves are
  One2Many actions of the shipment), so a failure never leaves moves changed without a shipment.
- Over-receipts are recorded: the PO workflow judges quantities before it calls the ERP, and a
  dock may receive more. Tryton asks to confirm them (`purchase.line.check_move_quantity`
  raises the `UserWarning` named `<hash>.check_move_quantity` on `receive`); we accept exactly
  that warning, as a Tryton client does, with `res.user.warning.skip(name, False)` (a one-time
  `res.user.warning` for our user) and receive again. Any other warning is a refusal.
- A receipt that stops half way is finished by a retry with the same key (the shipment is found
  by its reference: a draft one is received and done, a received one done). When Tryton refuses
  to receive the shipment, it is deleted with its moves (a draft shipment may be) and the
  purchase processed again, so Tryton re-creates the waiting moves: nothing half made stays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.errors import BusinessRuleError, TransientError
from adapters.tryton.purchases import TrytonBooks, refused, related
from adapters.tryton.rpc import TrytonWarning, decimal_quantity
from domain.purchasing import Receipt, ReceiptLine

SHIPMENT = "stock.shipment.in"
MOVE = "stock.move"
PURCHASE = "purchase.purchase"
MOVE_COPIED_FIELDS = ("product", "from_location", "to_location", "unit_price", "currency", "company")
OVER_RECEIPT_WARNING = ".check_move_quantity"  # purchase.line: "... is moving X in addition to the Y ordered"
UNFINISHED_STATES = ("draft", "received")
Received = list[tuple[int, Decimal, int]]  # (purchase line id, quantity, unit id) per receipt line
Ids = list[int]


class TrytonReceipts:
    def __init__(self, books: TrytonBooks) -> None:
        self._books = books

    async def find(self, po_number: str, key: str) -> Receipt | None:
        """The finished receipt this key recorded, if any."""
        found = await self._books.search_read(
            SHIPMENT, [("reference", "=", key), ("state", "=", "done")], ["id", "number", "create_date"]
        )
        return await self._shown(found[0], po_number) if found else None

    async def list(self, purchase: Mapping[str, Any]) -> list[Receipt]:
        ids = await self._books.received_shipments(purchase["id"])
        if not ids:
            return []
        rows = await self._books.search_read(
            SHIPMENT, [("id", "in", ids)], ["id", "number", "create_date"], order=[("id", "ASC")]
        )
        return [await self._shown(row, purchase["reference"]) for row in rows]

    async def record(
        self, purchase: Mapping[str, Any], lines: Sequence[ReceiptLine], *, received_by: str, key: str
    ) -> Receipt:
        books = self._books
        po_number = purchase["reference"]
        by_number = {row["sequence"]: row for row in await books.purchase_lines(purchase["id"])}
        received: Received = []
        for index, line in enumerate(lines):
            target = by_number.get(line.line)
            if target is None:
                raise refused("unknown_line", f"lines.{index}.line: PO {po_number} has no line {line.line}", 422)
            if line.quantity <= 0:
                raise refused("invalid_quantity", f"lines.{index}.quantity: must be more than zero", 422)
            product = await books.product(related(target, "product.code"))
            received.append((target["id"], line.quantity, await books.unit(product, line.uom)))
        await self.ensure_processing(purchase)
        pending = await books.search_read(
            SHIPMENT, [("reference", "=", key), ("state", "in", list(UNFINISHED_STATES))], ["id", "state"]
        )
        if pending:  # a retry of a receipt that stopped half way: finish it
            shipment_id, state = pending[0]["id"], pending[0]["state"]
            await self._ensure_note(shipment_id, received_by)
        else:
            moves = await self._move_actions(received)
            shipment_id = await self._create_shipment(purchase, key, moves)
            await books.create("ir.note", [{"resource": f"{SHIPMENT},{shipment_id}", "message": received_by}])
            state = "draft"
        try:
            if state == "draft":
                await self._receive(shipment_id)
            await books.button(SHIPMENT, "do", [shipment_id])
        except TransientError:
            raise  # the shipment stays as far as it got: a retry with the key finishes it
        except BusinessRuleError:
            if state == "draft":
                await self._discard(shipment_id, purchase["id"])
            raise
        await books.button(PURCHASE, "process", [purchase["id"]])
        [row] = await books.search_read(SHIPMENT, [("id", "=", shipment_id)], ["id", "number", "create_date"])
        return await self._shown(row, po_number)

    async def ensure_processing(self, purchase: Mapping[str, Any]) -> None:
        """Confirm a draft or quotation purchase so Tryton makes its incoming moves."""
        books, state = self._books, purchase["state"]
        if state == "draft":
            await books.button(PURCHASE, "quote", [purchase["id"]])
            state = "quotation"
        if state == "quotation":
            await books.button(PURCHASE, "confirm", [purchase["id"]])
            state = "confirmed"
        if state == "confirmed":  # Tryton processes a confirmed purchase from its queue: make sure
            await books.button(PURCHASE, "process", [purchase["id"]])

    async def cancel_waiting_moves(self, purchase_id: int) -> None:
        waiting = await self._books.call(
            MOVE, "search", [("purchase", "=", purchase_id), ("state", "=", "draft"), ("shipment", "=", None)]
        )
        if waiting:
            await self._books.button(MOVE, "cancel", list(waiting))

    async def _move_actions(self, received: Received) -> Sequence[Any]:
        """The shipment's `incoming_moves` actions for (purchase line id, quantity, unit) each:
        a waiting move of the line written to the quantity and added, else a new move."""
        books, writes, made = self._books, [], []
        added: Ids = []
        for line_id, quantity, unit in received:
            origin = f"purchase.line,{line_id}"
            waiting = await books.search_read(
                MOVE,
                [("origin", "=", origin), ("state", "=", "draft"), ("shipment", "=", None), ("id", "not in", added)],
                ["id"],
                order=[("id", "ASC")],
            )
            if waiting:
                added.append(int(waiting[0]["id"]))
                writes += [[added[-1]], {"quantity": quantity, "unit": unit}]
                continue
            earlier = await books.search_read(
                MOVE, [("origin", "=", origin)], ["id", *MOVE_COPIED_FIELDS], order=[("id", "ASC")]
            )
            if not earlier:
                raise refused("line_not_receivable", f"purchase line {line_id} has no incoming move in Tryton")
            copied = {name: earlier[0][name] for name in MOVE_COPIED_FIELDS}
            made.append({**copied, "origin": origin, "quantity": quantity, "unit": unit})
        actions: list[Any] = [("write", *writes), ("add", added)] if added else []
        return actions + ([("create", made)] if made else [])

    async def _create_shipment(self, purchase: Mapping[str, Any], key: str, moves: Sequence[Any]) -> int:
        books = self._books
        party = await books.party(related(purchase, "party.code"))
        [where] = await books.search_read(
            PURCHASE,
            [("id", "=", purchase["id"])],
            ["warehouse", "warehouse.input_location", "warehouse.storage_location"],
        )
        shipment = {
            "supplier": party["id"],
            "reference": key,
            "warehouse": where["warehouse"],
            "warehouse_input": related(where, "warehouse.input_location"),
            "warehouse_storage": related(where, "warehouse.storage_location"),
            "incoming_moves": moves,
        }
        [shipment_id] = await books.create(SHIPMENT, [shipment])
        return int(shipment_id)

    async def _receive(self, shipment_id: int) -> None:
        """`receive`, accepting Tryton's over-receipt warning (once per warning name) and no other."""
        accepted: set[str] = set()
        while True:
            try:
                await self._books.button(SHIPMENT, "receive", [shipment_id])
                return
            except TrytonWarning as warning:
                name = warning.warning
                if not name or not name.endswith(OVER_RECEIPT_WARNING) or name in accepted:
                    raise
                accepted.add(name)
                await self._books.call("res.user.warning", "skip", name, False)

    async def _ensure_note(self, shipment_id: int, received_by: str) -> None:
        resource = f"{SHIPMENT},{shipment_id}"
        if not await self._books.search_read("ir.note", [("resource", "=", resource)], ["id"]):
            await self._books.create("ir.note", [{"resource": resource, "message": received_by}])

    async def _discard(self, shipment_id: int, purchase_id: int) -> None:
        """Delete a refused draft shipment (its moves go with it) and its note, then process the
        purchase so Tryton makes the waiting moves again."""
        books = self._books
        notes = await books.search_read("ir.note", [("resource", "=", f"{SHIPMENT},{shipment_id}")], ["id"])
        await books.call(SHIPMENT, "delete", [shipment_id])
        if notes:
            await books.call("ir.note", "delete", [row["id"] for row in notes])
        await books.button(PURCHASE, "process", [purchase_id])

    async def _shown(self, shipment: Mapping[str, Any], po_number: str) -> Receipt:
        books = self._books
        [row] = await books.search_read(SHIPMENT, [("id", "=", shipment["id"])], ["incoming_moves"])
        moves = await books.search_read(
            MOVE,
            [("id", "in", list(row["incoming_moves"] or []))],
            ["origin", "quantity", "unit.symbol"],
            order=[("id", "ASC")],
        )
        line_ids = [int(str(move["origin"]).split(",")[1]) for move in moves if move.get("origin")]
        numbers = {
            line["id"]: line["sequence"]
            for line in await books.search_read("purchase.line", [("id", "in", line_ids)], ["sequence"])
        }
        notes = await books.search_read("ir.note", [("resource", "=", f"{SHIPMENT},{shipment['id']}")], ["message"])
        lines = [
            ReceiptLine(
                line=numbers[int(str(move["origin"]).split(",")[1])],
                quantity=decimal_quantity(move["quantity"]),
                uom=related(move, "unit.symbol"),
            )
            for move in moves
            if move.get("origin")
        ]
        return Receipt(
            receipt_id=shipment["number"] or str(shipment["id"]),
            po_number=po_number,
            lines=sorted(lines, key=lambda line: line.line),  # Tryton keeps no request order: by PO line
            received_at=shipment.get("create_date"),
            received_by=notes[0]["message"] if notes else None,
        )
