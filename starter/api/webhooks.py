"""Inbound webhooks of the external systems, verified by their HMAC signature
(`X-SupplyBridge-Signature: t=<unix time>,v1=<HMAC-SHA256 of "t.body">`, secret
`SUPPLYBRIDGE_WEBHOOK_SECRET`): vendor status changes, PO acknowledgements, ERP receipts.
Each is turned into a signal to the process it concerns."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from domain.events import VendorStatusEvent
from domain.purchasing import PoAcknowledgement, Receipt, purchase_order_workflow_id
from runtime.settings import Settings
from runtime.webhooks import SIGNATURE_HEADER, verify
from starter.api.deps import TemporalClient
from starter.api.problems import PROBLEM_RESPONSES, ProblemError, field_errors
from starter.api.security import authenticate_headers
from starter.operations import deliver_acknowledgement, deliver_receipt, deliver_status_event

EventT = TypeVar("EventT", bound=BaseModel)
MAX_WEBHOOK_BYTES = 64 * 1024

router = APIRouter(prefix="/v1/events", tags=["events"], responses=PROBLEM_RESPONSES)
Signature = Annotated[
    str | None, Header(alias=SIGNATURE_HEADER, description="t=<unix time>,v1=<hex HMAC-SHA256> (401 without it)")
]


class Delivered(BaseModel):
    workflow_id: str
    event_id: str
    delivered: bool = True


async def signed_event(request: Request, signature: str | None, model: type[EventT]) -> EventT:
    """The webhook body as `model`; 413, 401, 403 or 422 problems otherwise. A caller without a
    signature may send the event with a bearer token or API key holding `events:write`."""
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise ProblemError(413, "Payload too large", f"the body is over {MAX_WEBHOOK_BYTES} bytes")
    settings: Settings = request.app.state.settings
    if signature is None and ("authorization" in request.headers or "x-api-key" in request.headers):
        principal = authenticate_headers(request)
        if "events:write" not in principal.scopes:
            raise ProblemError(403, "Insufficient scope", "sending events needs the scope events:write")
    else:
        refused = verify(settings.webhook_secret.get_secret_value(), body, signature)
        if refused:
            raise ProblemError(401, "Signature refused", refused)
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise ProblemError(
            422, "Invalid event", "the event body is not valid", errors=field_errors(list(error.errors()))
        ) from None


@router.post("/vendor-status", status_code=202, response_model=Delivered)
async def vendor_status_event(request: Request, temporal: TemporalClient, signature: Signature = None) -> JSONResponse:
    """A supplier status change from vendor management: signal-with-start of its status sync."""
    event = await signed_event(request, signature, VendorStatusEvent)
    settings: Settings = request.app.state.settings
    workflow_id = await deliver_status_event(temporal, settings, event)
    return JSONResponse(Delivered(workflow_id=workflow_id, event_id=event.event_id).model_dump(), status_code=202)


@router.post("/po-acknowledgements", status_code=202, response_model=Delivered)
async def po_acknowledgement_event(
    request: Request, temporal: TemporalClient, signature: Signature = None
) -> JSONResponse:
    """The vendor channel's acknowledgement, signalled to the PO's workflow. One for a PO whose
    workflow is not running is accepted and reported as not delivered (it cannot change a
    finished PO), so the sender does not retry it."""
    ack = await signed_event(request, signature, PoAcknowledgement)
    delivered = await deliver_acknowledgement(temporal, ack)
    body = Delivered(workflow_id=purchase_order_workflow_id(ack.po_number), event_id=ack.event_id, delivered=delivered)
    return JSONResponse(body.model_dump(), status_code=202)


@router.post("/erp-receipts", status_code=202, response_model=Delivered)
async def erp_receipt_event(request: Request, temporal: TemporalClient, signature: Signature = None) -> JSONResponse:
    """The ERP's receiving event (`receipt.recorded`), signalled to the PO's workflow, which
    counts each receipt id once (receipts it recorded itself come back here too)."""
    receipt = await signed_event(request, signature, Receipt)
    delivered = await deliver_receipt(temporal, receipt)
    workflow_id = purchase_order_workflow_id(receipt.po_number)
    body = Delivered(workflow_id=workflow_id, event_id=receipt.receipt_id, delivered=delivered)
    return JSONResponse(body.model_dump(), status_code=202)
