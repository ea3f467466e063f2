"""Vendor channel (`/vendor-channel`): suppliers receive PO notifications and answer with an
acknowledgement after a short delay, pushed to the platform as a signed webhook
(`po.acknowledged`, through the shared outbox and `WebhookDispatcher`, to the channel's own
target URL).

Each supplier answers as configured (`PUT /vendor-channel/admin/behaviours/{supplier_id}`):
`accept` every line; `backorder` half of the first line (promised two weeks after the order);
`never` answer; `reject` every line; `price_change` the first line's price +5 %;
`quantity_change` the first line to half. Defaults: SUP-0001 backorders, SUP-0003 never
answers, everyone else accepts. Notifying the same PO twice sends one acknowledgement.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.system_records import VendorNotification
from sandbox.db import DbSession, Documents, SandboxDatabase, utc_now
from sandbox.paging import Paging
from sandbox.system import SandboxSystem
from sandbox.vendor_channel_edi import router as edi_router
from sandbox.webhooks import OUTBOX, WebhookDispatcher, add_webhook_admin_routes, new_outbox_entry, outbox_view

logger = logging.getLogger("sandbox.vendor_channel")

NAME = "vendor-channel"
NOTIFICATION = "notification"
BEHAVIOUR = "behaviour"
DEFAULT = "*"
DEFAULT_DELAY = 0.5
DEFAULT_BEHAVIOURS = {DEFAULT: "accept", "SUP-0001": "backorder", "SUP-0003": "never"}
Mode = Literal["accept", "backorder", "never", "reject", "price_change", "quantity_change"]

router = APIRouter(prefix=f"/{NAME}", tags=[NAME])


class Behaviour(BaseModel):
    mode: Mode
    delay_seconds: float = Field(default=DEFAULT_DELAY, ge=0, le=3600)


def _docs(session: Session) -> Documents:
    return Documents(session, NAME)


def behaviour_of(docs: Documents, supplier_id: str) -> Behaviour:
    found = docs.get(BEHAVIOUR, supplier_id) or docs.get(BEHAVIOUR, DEFAULT) or {"mode": "accept"}
    return Behaviour.model_validate({k: v for k, v in found.items() if k in ("mode", "delay_seconds")})


def _half(quantity: Decimal) -> Decimal:
    return max(Decimal(1), (quantity / 2).to_integral_value(rounding=ROUND_DOWN))


def acknowledgement_lines(mode: str, lines: list[dict[str, Any]], order_date: str) -> list[dict[str, Any]]:
    answered = []
    for index, line in enumerate(lines):
        quantity, price = Decimal(line["quantity"]), Decimal(line["unit_price"])
        answer: dict[str, Any] = {"line": line["line"], "status": "accepted", "quantity": str(quantity)}
        first = index == 0
        if mode == "reject":
            answer = {"line": line["line"], "status": "rejected", "note": "cannot supply"}
        elif first and mode == "backorder":
            promised = date.fromisoformat(order_date) + timedelta(days=14)
            answer.update(
                status="backordered",
                backordered_quantity=str(_half(quantity) if quantity > 1 else quantity),
                promised_date=promised.isoformat(),
            )
        elif first and mode == "price_change":
            answer.update(status="price_changed", unit_price=str((price * Decimal("1.05")).quantize(Decimal("0.01"))))
        elif first and mode == "quantity_change":
            answer.update(status="quantity_changed", quantity=str(_half(quantity)))
        answered.append(answer)
    return answered


class AckScheduler:
    """Answers notifications after their supplier's delay, on the app's event loop."""

    def __init__(self, database: SandboxDatabase, dispatcher: WebhookDispatcher) -> None:
        self.database = database
        self.dispatcher = dispatcher
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handles: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        pending = await anyio.to_thread.run_sync(self._unanswered)
        for po_number in pending:
            self.schedule(po_number, 0.0)

    async def stop(self) -> None:
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._loop = None

    def schedule(self, po_number: str, delay: float) -> None:
        """Safe from any thread; a no-op while the app is not running (no lifespan)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def fire() -> None:
            task = loop.create_task(self._answer(po_number))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        def arm() -> None:
            self._handles.add(loop.call_later(delay, fire))

        loop.call_soon_threadsafe(arm)

    async def _answer(self, po_number: str) -> None:
        try:
            event_id = await anyio.to_thread.run_sync(self._write_acknowledgement, po_number)
        except Exception:
            logger.exception("acknowledging %s failed", po_number)
            return
        if event_id:
            self.dispatcher.submit(NAME, event_id)

    def _unanswered(self) -> list[str]:
        with self.database.sessionmaker() as session:
            return [
                n["po_number"]
                for n in _docs(session).all(NOTIFICATION)
                if n["status"] == "received" and n.get("acknowledgement") is None
            ]

    def _write_acknowledgement(self, po_number: str) -> str | None:
        with self.database.sessionmaker() as session:
            docs = _docs(session)
            record = docs.get(NOTIFICATION, po_number)
            if record is None or record["status"] != "received" or record.get("acknowledgement") is not None:
                return None
            mode = behaviour_of(docs, record["supplier_id"]).mode
            if mode == "never":
                return None
            event = {
                "event_id": f"ack-{uuid.uuid4().hex}",
                "type": "po.acknowledged",
                "po_number": po_number,
                "supplier_id": record["supplier_id"],
                "acknowledged_at": datetime.now(UTC).isoformat(),
                "lines": acknowledgement_lines(mode, record["lines"], record["order_date"]),
            }
            docs.put(NOTIFICATION, po_number, {**record, "status": "acknowledged", "acknowledgement": event})
            docs.put(OUTBOX, event["event_id"], new_outbox_entry(event))
            session.commit()
            return str(event["event_id"])


def _scheduler(request: Request) -> AckScheduler:
    scheduler: AckScheduler = request.app.state.ack_scheduler
    return scheduler


@router.post("/purchase-orders", status_code=202)
def receive_purchase_order(session: DbSession, request: Request, notification: VendorNotification) -> dict[str, Any]:
    docs = _docs(session)
    existing = docs.get(NOTIFICATION, notification.po_number)
    behaviour = behaviour_of(docs, notification.supplier_id)
    if existing is not None and existing["status"] != "cancelled":
        return {**existing, "behaviour": behaviour.model_dump()}
    body = {
        **notification.model_dump(mode="json"),
        "status": "received",
        "acknowledgement": None,
        "received_at": utc_now(),
    }
    docs.put(NOTIFICATION, notification.po_number, body)
    session.commit()  # the scheduler reads it from another session
    if behaviour.mode != "never":
        _scheduler(request).schedule(notification.po_number, behaviour.delay_seconds)
    return {**body, "behaviour": behaviour.model_dump()}


@router.get("/purchase-orders/{po_number}")
def get_purchase_order(session: DbSession, po_number: str) -> dict[str, Any]:
    """The notification as received, with its `shipping` ("standard" for one stored before
    notifications carried it) and its acknowledgement once sent."""
    record = _docs(session).require(NOTIFICATION, po_number, label="purchase order notification")
    return {**record, "shipping": record.get("shipping") or "standard"}


@router.delete("/purchase-orders/{po_number}")
def cancel_purchase_order(session: DbSession, po_number: str, reason: str | None = None) -> dict[str, Any]:
    """The buyer cancels: an acknowledgement not sent yet is never sent."""
    docs = _docs(session)
    record = docs.require(NOTIFICATION, po_number, label="purchase order notification")
    if record["status"] == "cancelled":
        return record
    return docs.put(
        NOTIFICATION, po_number, {**record, "status": "cancelled", "cancel_reason": reason, "cancelled_at": utc_now()}
    )


@router.get("/events")
def list_events(session: DbSession, paging: Paging) -> dict[str, Any]:
    return paging.page([outbox_view(entry) for entry in _docs(session).all(OUTBOX)])


@router.get("/admin/behaviours")
def list_behaviours(session: DbSession) -> dict[str, Any]:
    return {doc["supplier_id"]: Behaviour.model_validate(doc).model_dump() for doc in _docs(session).all(BEHAVIOUR)}


@router.put("/admin/behaviours/{supplier_id}")
def set_behaviour(session: DbSession, supplier_id: str, behaviour: Behaviour) -> dict[str, Any]:
    """`*` sets the default for suppliers without their own behaviour."""
    _docs(session).put(BEHAVIOUR, supplier_id, {"supplier_id": supplier_id, **behaviour.model_dump()})
    return {"supplier_id": supplier_id, **behaviour.model_dump()}


add_webhook_admin_routes(router, NAME, own_target=True)
router.include_router(edi_router)  # /vendor-channel/edi: X12 to trading partners (sandbox/vendor_channel_edi.py)


def _seed(session: Session, seed_dir: Path) -> None:
    docs = _docs(session)
    for supplier_id, mode in DEFAULT_BEHAVIOURS.items():
        docs.put(BEHAVIOUR, supplier_id, {"supplier_id": supplier_id, "mode": mode, "delay_seconds": DEFAULT_DELAY})


SYSTEM = SandboxSystem(name=NAME, router=router, seed=_seed)
