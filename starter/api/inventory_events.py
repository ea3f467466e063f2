"""The inventory system's `stock.below_reorder_point` webhook, `POST /v1/events/inventory`: a
balance at or below its reorder point, handed to the location and item's replenishment by
signal-with-start of `breach_reported` (starter/operations/replenishments.py).

Who may send it, replays and the audit trail are those of every event route
(starter/api/webhooks.py `receive_event`): a delivery signed with the webhook secret is the
`inventory` system; a bearer token or API key with `events:write` only when its `systems` include
`inventory` (403 otherwise: a vendor partner or the ERP never speaks for the stock). The body is a
`StockBreach`; a value wrong in itself is 422 naming the field.

Decisions:
- 202 `Delivered` with the replenishment's workflow id whether the breach started a run or joined
  the open one: the workflow counts each event id once, so a breach sent again costs nothing;
- the balance is not checked here: the workflow reads it again (the event's `on_hand` is what the
  sender saw), so a late or stale breach ends its run as `not_needed` rather than being refused;
- the breach is forwarded as sent (its `source` says which channel raised it; who sent it is the
  audit entry's actor); the audit record is the item (`record_type` `item`), the workflow id,
  which names the location too, is in the entry's details.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from domain.replenishment_models import StockBreach, replenishment_workflow_id
from runtime.settings import Settings
from starter.api.deps import TemporalClient
from starter.api.problems import PROBLEM_RESPONSES
from starter.api.security import Principal
from starter.api.webhooks import EVENT_RESPONSES, Delivered, EventRoute, Signature, receive_event, register_event_body
from starter.operations.replenishments import deliver_stock_breach

PATH = "/inventory"
router = APIRouter(prefix="/v1/events", tags=["events"], responses=PROBLEM_RESPONSES)


def _replenishment_of(breach: StockBreach) -> str:
    return replenishment_workflow_id(breach.location_id, breach.item_id)


STOCK_BREACH = EventRoute("stock_breach", "inventory", "item", "item_id", workflow_of=_replenishment_of)
BREACH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: EVENT_RESPONSES[200],
    503: PROBLEM_RESPONSES[500] | {"description": "Temporal is unavailable; nothing was delivered, retry"},
}


@router.post(PATH, status_code=202, response_model=Delivered, responses=BREACH_RESPONSES)
async def stock_breach_event(request: Request, temporal: TemporalClient, signature: Signature = None) -> JSONResponse:
    """A balance at or below its reorder point (`stock.below_reorder_point`), from the inventory
    system: signal-with-start of the location and item's replenishment (workflow
    `replenishment-<location>-<item>`), which starts a run or joins the open one. Only the
    inventory system sends these."""
    settings: Settings = request.app.state.settings

    async def take(principal: Principal, breach: StockBreach) -> Delivered:
        workflow_id = await deliver_stock_breach(temporal, settings, breach)
        return Delivered(workflow_id=workflow_id, event_id=breach.event_id)

    return await receive_event(request, signature, STOCK_BREACH, StockBreach, take)


register_event_body(router.prefix + PATH, StockBreach)
