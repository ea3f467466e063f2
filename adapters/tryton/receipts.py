"""Receipts as Tryton incoming shipments (`stock.shipment.in`); the mapping is documented in
adapters/tryton/procurement.py.

A receipt line takes its quantity (in its own unit) off the purchase line's waiting move: the
move is written to the received quantity and unit, put in a new shipment whose `reference` is
our idempotency key, and the shipment is received and done. Processing the purchase again makes
Tryton create a move for whatever is still to come. With no waiting move left (an over-receipt
after the line was fully received) a new move for the line is made from its earlier one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.tryton.purchases import TrytonBooks, refused, related
from domain.purchasing import Receipt, ReceiptLine

SHIPMENT = "stock.shipment.in"
MOVE = "stock.move"
PURCHASE = "purchase.purchase"
MOVE_COPIED_FIELDS = ("product", "from_location", "to_location", "unit_price", "currency", "company")


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
        units = []
        for index, line in enumerate(lines):
            target = by_number.get(line.line)
            if target is None:
                raise refused("unknown_line", f"lines.{index}.line: PO {po_number} has no line {line.line}", 422)
            if line.quantity <= 0:
                raise refused("invalid_quantity", f"lines.{index}.quantity: must be more than zero", 422)
            product = await books.product(related(target, "product.code"))
            units.append(await books.unit(product, line.uom))
        await self.ensure_processing(purchase)
        pending = await books.search_read(SHIPMENT, [("reference", "=", key)], ["id", "state"])
        if pending:  # a retry of a receipt that stopped half way: finish it
            shipment_id, state = pending[0]["id"], pending[0]["state"]
        else:
            used: list[int] = []
            for line, unit in zip(lines, units, strict=True):
                used.append(await self._move_for(by_number[line.line]["id"], line.quantity, unit, used))
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
                "incoming_moves": [("add", used)],
            }
            [shipment_id] = await books.create(SHIPMENT, [shipment])
            await books.create("ir.note", [{"resource": f"{SHIPMENT},{shipment_id}", "message": received_by}])
            state = "draft"
        if state == "draft":
            await books.button(SHIPMENT, "receive", [shipment_id])
            state = "received"
        if state == "received":
            await books.button(SHIPMENT, "do", [shipment_id])
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

    async def _move_for(self, line_id: int, quantity: Decimal, unit: int, used: Sequence[int]) -> int:
        books = self._books
        origin = f"purchase.line,{line_id}"
        waiting = await books.search_read(
            MOVE,
            [("origin", "=", origin), ("state", "=", "draft"), ("shipment", "=", None), ("id", "not in", list(used))],
            ["id"],
            order=[("id", "ASC")],
        )
        if waiting:
            await books.write(MOVE, [waiting[0]["id"]], {"quantity": quantity, "unit": unit})
            return int(waiting[0]["id"])
        earlier = await books.search_read(
            MOVE, [("origin", "=", origin)], ["id", *MOVE_COPIED_FIELDS], order=[("id", "ASC")]
        )
        if not earlier:
            raise refused("line_not_receivable", f"purchase line {line_id} has no incoming move in Tryton")
        values = {name: earlier[0][name] for name in MOVE_COPIED_FIELDS}
        [made] = await books.create(MOVE, [{**values, "origin": origin, "quantity": quantity, "unit": unit}])
        return made

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
        return Receipt(
            receipt_id=shipment["number"] or str(shipment["id"]),
            po_number=po_number,
            lines=[
                ReceiptLine(
                    line=numbers[int(str(move["origin"]).split(",")[1])],
                    quantity=move["quantity"],
                    uom=related(move, "unit.symbol"),
                )
                for move in moves
                if move.get("origin")
            ],
            received_at=shipment.get("create_date"),
            received_by=notes[0]["message"] if notes else None,
        )
