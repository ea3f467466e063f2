"""Inbound events of the external systems, each turned into a signal to the process it concerns:
vendor status changes (vendor management -> supplier status sync), PO acknowledgements (vendor
channel or a vendor partner -> PO workflow), ERP receipts (ERP -> PO workflow); the inventory
system's stock breaches (-> replenishment) in starter/api/inventory_events.py, through `receive_event`.

Who may send what. A delivery signed with the shared webhook secret
(`X-SupplyBridge-Signature: t=<unix time>,v1=<HMAC-SHA256 of "t.body">`,
`SUPPLYBRIDGE_WEBHOOK_SECRET`) is the internal system the route belongs to: `vendor-management`,
`vendor-channel`, `erp`, `inventory`. Without a signature, a bearer token or API key with
`events:write` must say what it speaks for: `systems` (of those: that system's events only) and/or
`suppliers` (ERP supplier ids: acknowledgements of those suppliers' POs only, never vendor
status or receipts). The PO's supplier is read from its workflow's status query; a PO that is
not one of the caller's suppliers' (or does not exist) is the same 403, so a partner cannot
probe other suppliers' PO numbers.

Bodies are checked as strictly as the CLI's inputs (starter/api/event_checks.py): 422 naming the
field for values that are wrong in themselves or lines the PO does not have, 409 for more than a
line still expects. An acknowledgement's price change stays a request: the workflow applies a
lower price and sends a higher one to pricing approval. The acknowledgement is forwarded with
`source` = the caller's identity (`webhook:vendor-channel`, `jwt:<sub>`, `api_key:<subject>`),
part of its identity in the workflow, so an event id another caller used first cannot shadow a
genuine one.

Audit: every event taken or refused after its sender is known is appended to the audit trail
(actor: the principal; action `event.<kind>`; outcome `delivered`, `not_delivered`,
`duplicate`, `refused` or `failed`, with the status and reason). Deliveries refused before (bad
or missing signature or credentials: 401, or the address's rate limit) are not: an anonymous
flood must not grow the hash chain; they are counted by the pre-authentication rate limit.

Replays. A signed delivery is remembered for the signature's window (runtime/webhooks.py
`SeenSignatures`); the same signed body again is answered `200` with `delivered: false,
duplicate: true` and not delivered twice (systems retry on timeouts: an honest duplicate is not
an error). A delivery that failed (a 4xx or 5xx) is forgotten, so a retry of it is taken.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from pydantic.json_schema import models_json_schema
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.service import RPCError

from domain.audit import AuditRecord
from domain.events import VendorStatusEvent
from domain.po_models import PoStatus
from domain.purchasing import PoAcknowledgement, Receipt, purchase_order_workflow_id
from domain.status_sync import status_sync_workflow_id
from runtime.settings import Settings
from runtime.webhooks import SIGNATURE_HEADER, SeenSignatures, verify
from starter.api.deps import TemporalClient
from starter.api.event_checks import check_acknowledgement, check_receipt
from starter.api.problems import PROBLEM_RESPONSES, ProblemError, field_errors
from starter.api.security import Principal, authenticate_headers
from starter.operations import deliver_acknowledgement, deliver_receipt, deliver_status_event
from starter.operations.messages import purchase_order_status
from store import Store

EventT = TypeVar("EventT", bound=BaseModel)
MAX_WEBHOOK_BYTES = 64 * 1024
STATUS_RETRY_SECONDS = 5

router = APIRouter(prefix="/v1/events", tags=["events"], responses=PROBLEM_RESPONSES)
Signature = Annotated[
    str | None, Header(alias=SIGNATURE_HEADER, description="t=<unix time>,v1=<hex HMAC-SHA256> (401 without it)")
]


class Delivered(BaseModel):
    workflow_id: str
    event_id: str
    delivered: bool = True
    duplicate: bool = Field(default=False, description="a signed delivery seen before: not delivered again")


EVENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Delivered, "description": "a replayed signed delivery: taken before, not delivered again"},
    503: PROBLEM_RESPONSES[500] | {"description": "the PO's state cannot be read now; retry (Retry-After)"},
}


@dataclass(frozen=True)
class EventRoute:
    kind: str  # audit action `event.<kind>`
    system: str  # whose signed deliveries these are
    record_type: str
    key_field: str  # the body field naming the record
    workflow_of: Callable[[Any], str] | None = None  # the run an event goes to; a PO's or status sync's if None


VENDOR_STATUS = EventRoute("vendor_status", "vendor-management", "supplier", "vendor_id")
PO_ACKNOWLEDGEMENT = EventRoute("po_acknowledgement", "vendor-channel", "purchase_order", "po_number")
ERP_RECEIPT = EventRoute("erp_receipt", "erp", "purchase_order", "po_number")


async def receive_event(
    request: Request,
    signature: str | None,
    route: EventRoute,
    model: type[EventT],
    take: Callable[[Principal, EventT], Awaitable[Delivered]],
) -> JSONResponse:
    """Authenticate the sender, parse the body as `model`, drop a replayed signed delivery, then
    `take` it (authorize, check, deliver); audit what happened (see the module docstring)."""
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        raise ProblemError(413, "Payload too large", f"the body is over {MAX_WEBHOOK_BYTES} bytes")
    principal = _sender(request, signature, body, route)
    record_id, event_id = _hint(body, route), None
    seen = _seen_signatures(request)
    claimed = False
    try:
        if "events:write" not in principal.scopes:
            raise ProblemError(403, "Insufficient scope", "sending events needs the scope events:write")
        if not _may_send(principal, route):  # refused before the body is even read
            raise ProblemError(
                403,
                "Not your event",
                f"{route.kind} events come from the {route.system} system"
                + ("; this caller speaks for no supplier and not for it" if route is PO_ACKNOWLEDGEMENT else "")
                + ("" if route is PO_ACKNOWLEDGEMENT else "; this caller does not speak for it"),
            )
        event = _parse(body, model)
        record_id, event_id = _hint(body, route), _event_id(event)
        if signature is not None:
            claimed = seen.claim(signature)
            if not claimed:
                replay = Delivered(workflow_id=_workflow_id(route, event), event_id=event_id or "",
                                   delivered=False, duplicate=True)  # fmt: skip
                await _audit(request, principal, route, record_id, "duplicate", event_id=event_id)
                return JSONResponse(replay.model_dump(), status_code=200)
        answer = await take(principal, event)
    except ProblemError as refused:
        if claimed and signature is not None:
            seen.release(signature)
        outcome = "failed" if refused.status >= 500 else "refused"
        await _audit(request, principal, route, record_id, outcome, event_id=event_id, status=refused.status,
                     reason=refused.detail, errors=refused.extra.get("errors"))  # fmt: skip
        raise
    except BaseException:
        if claimed and signature is not None:
            seen.release(signature)
        raise
    outcome = "delivered" if answer.delivered else "not_delivered"
    await _audit(request, principal, route, record_id, outcome, event_id=event_id, workflow_id=answer.workflow_id)
    return JSONResponse(answer.model_dump(), status_code=202)


def _sender(request: Request, signature: str | None, body: bytes, route: EventRoute) -> Principal:
    """The system the route belongs to for a good signature; else the token's or key's principal."""
    if signature is None and ("authorization" in request.headers or "x-api-key" in request.headers):
        return authenticate_headers(request)
    settings: Settings = request.app.state.settings
    refused = verify(settings.webhook_secret.get_secret_value(), body, signature)
    if refused:
        raise ProblemError(401, "Signature refused", refused)
    return Principal(
        subject=route.system, scopes=frozenset({"events:write"}), via="webhook", systems=frozenset({route.system})
    )


def _seen_signatures(request: Request) -> SeenSignatures:
    state = request.app.state
    if not hasattr(state, "seen_signatures"):  # one per app; no await between test and set
        state.seen_signatures = SeenSignatures()
    seen: SeenSignatures = state.seen_signatures
    return seen


def _parse(body: bytes, model: type[EventT]) -> EventT:
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        errors = field_errors(list(error.errors()))
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        raise ProblemError(422, "Invalid event", detail or "the event body is not valid", errors=errors) from None


def _hint(body: bytes, route: EventRoute) -> str:
    """The record an event is about, for the audit trail, even when the body is not valid."""
    try:
        value = json.loads(body).get(route.key_field)
    except (ValueError, AttributeError):
        return "unknown"
    return value if isinstance(value, str) and 0 < len(value) <= 255 else "unknown"


def _event_id(event: BaseModel) -> str | None:
    value = getattr(event, "event_id", None) or getattr(event, "receipt_id", None)
    return str(value) if value is not None else None


def _workflow_id(route: EventRoute, event: BaseModel) -> str:
    if route.workflow_of is not None:
        return route.workflow_of(event)
    if isinstance(event, VendorStatusEvent):
        return status_sync_workflow_id(event.vendor_id)
    return purchase_order_workflow_id(str(getattr(event, "po_number", "")))


async def _audit(
    request: Request, principal: Principal, route: EventRoute, record_id: str, outcome: str, **details: Any
) -> None:
    entry = AuditRecord(
        actor=principal.subject,
        action=f"event.{route.kind}",
        record_type=route.record_type,
        record_id=record_id,
        outcome=outcome,
        details={"via": principal.via, "principal": principal.key,
                 **{k: v for k, v in details.items() if v is not None}},
    )  # fmt: skip
    store: Store = request.app.state.store
    await asyncio.to_thread(store.audit.append, entry)


def _may_send(principal: Principal, route: EventRoute) -> bool:
    """The route's own system may send its events; a supplier principal only acknowledgements
    (which of its POs is checked once the body is read)."""
    return principal.speaks_for_system(route.system) or (route is PO_ACKNOWLEDGEMENT and bool(principal.suppliers))


def _speak_for(principal: Principal, system: str, what: str) -> None:
    if not principal.speaks_for_system(system):
        raise ProblemError(
            403, "Not your event", f"{what} are sent by the {system} system; this caller does not speak for it"
        )


async def _po_status(temporal: Client, po_number: str) -> PoStatus | None:
    """The PO's status query; 503 (with Retry-After) when it cannot be read now."""
    try:
        return await purchase_order_status(temporal, po_number)
    except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError, TimeoutError):
        unavailable = ProblemError(
            503, "PO state unavailable", f"the state of PO {po_number} cannot be read now; retry later",
            retry_after=STATUS_RETRY_SECONDS,
        )  # fmt: skip
        unavailable.headers["Retry-After"] = str(STATUS_RETRY_SECONDS)
        raise unavailable from None


@router.post("/vendor-status", status_code=202, response_model=Delivered, responses=EVENT_RESPONSES)
async def vendor_status_event(request: Request, temporal: TemporalClient, signature: Signature = None) -> JSONResponse:
    """A supplier status change from vendor management: signal-with-start of its status sync.
    Only the vendor-management system sends these."""
    settings: Settings = request.app.state.settings

    async def take(principal: Principal, event: VendorStatusEvent) -> Delivered:
        _speak_for(principal, VENDOR_STATUS.system, "vendor status changes")
        workflow_id = await deliver_status_event(temporal, settings, event)
        return Delivered(workflow_id=workflow_id, event_id=event.event_id)

    return await receive_event(request, signature, VENDOR_STATUS, VendorStatusEvent, take)


@router.post("/po-acknowledgements", status_code=202, response_model=Delivered, responses=EVENT_RESPONSES)
async def po_acknowledgement_event(
    request: Request, temporal: TemporalClient, signature: Signature = None
) -> JSONResponse:
    """A PO acknowledgement, from the vendor channel or a vendor partner for its own suppliers'
    POs, signalled to the PO's workflow. One for a PO whose workflow is not running is accepted
    and reported as not delivered (it cannot change a finished PO), so the sender does not retry."""

    async def take(principal: Principal, ack: PoAcknowledgement) -> Delivered:
        channel = principal.speaks_for_system(PO_ACKNOWLEDGEMENT.system)
        if not channel and not principal.suppliers:
            raise ProblemError(
                403, "Not your event", "this caller speaks for no supplier and not for the vendor channel"
            )
        status = await _po_status(temporal, ack.po_number)
        if not channel and (status is None or not principal.speaks_for_supplier(status.supplier_id)):
            raise ProblemError(403, "Not your purchase order", f"PO {ack.po_number} is not a PO of your suppliers")
        check_acknowledgement(ack, status)
        sourced = ack.model_copy(update={"source": principal.key})
        delivered = status is not None and await deliver_acknowledgement(temporal, sourced)
        return Delivered(workflow_id=purchase_order_workflow_id(ack.po_number), event_id=ack.event_id,
                         delivered=delivered)  # fmt: skip

    return await receive_event(request, signature, PO_ACKNOWLEDGEMENT, PoAcknowledgement, take)


@router.post("/erp-receipts", status_code=202, response_model=Delivered, responses=EVENT_RESPONSES)
async def erp_receipt_event(request: Request, temporal: TemporalClient, signature: Signature = None) -> JSONResponse:
    """The ERP's receiving event (`receipt.recorded`), signalled to the PO's workflow, which
    counts each receipt id once (receipts it recorded itself come back here too, and are passed
    on without the quantity check: the PO has counted them already). Only the ERP sends these."""

    async def take(principal: Principal, receipt: Receipt) -> Delivered:
        _speak_for(principal, ERP_RECEIPT.system, "ERP receipts")
        check_receipt(receipt, None)
        status = await _po_status(temporal, receipt.po_number)
        check_receipt(receipt, status)
        delivered = status is not None and await deliver_receipt(temporal, receipt)
        return Delivered(workflow_id=purchase_order_workflow_id(receipt.po_number), event_id=receipt.receipt_id,
                         delivered=delivered)  # fmt: skip

    return await receive_event(request, signature, ERP_RECEIPT, Receipt, take)


# The routes read their body raw (the signature covers its bytes), so FastAPI cannot describe it:
# `document_event_bodies` adds each route's body schema to the OpenAPI document.
EVENT_BODIES: dict[str, type[BaseModel]] = {
    "/v1/events/vendor-status": VendorStatusEvent,
    "/v1/events/po-acknowledgements": PoAcknowledgement,
    "/v1/events/erp-receipts": Receipt,
}


def register_event_body(path: str, model: type[BaseModel]) -> None:
    """An event route kept in its own module (starter/api/inventory_events.py) documents its body
    here, so this module never imports the routes that extend it."""
    EVENT_BODIES[path] = model


def document_event_bodies(document: dict[str, Any]) -> dict[str, Any]:
    """Each event route's request body, as its model, in the OpenAPI document. A body model that
    a response also shows (a `StockBreach` in a `ReplenishmentStatus`) is documented as accepted,
    as `<Name>-Input` (FastAPI's own naming), never as the response's form (decimals as strings)."""
    _, definitions = models_json_schema(
        [(model, "validation") for model in EVENT_BODIES.values()], ref_template="#/components/schemas/{model}"
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    renamed: dict[str, str] = {}
    while True:  # a model whose nested model was renamed differs too: rename until none clashes
        text = json.dumps(definitions.get("$defs", {}))
        for name, new in renamed.items():
            text = text.replace(f'"#/components/schemas/{name}"', f'"#/components/schemas/{new}"')
        bodies: dict[str, Any] = json.loads(text)
        clashes = {n for n, schema in bodies.items() if n not in renamed and schemas.get(n, schema) != schema}
        if not clashes:
            break
        renamed |= {name: f"{name}-Input" for name in clashes}
    for name, schema in bodies.items():
        schemas.setdefault(renamed.get(name, name), schema)
    for path, model in EVENT_BODIES.items():
        operation = document.get("paths", {}).get(path, {}).get("post")
        if operation is not None:
            ref = f"#/components/schemas/{renamed.get(model.__name__, model.__name__)}"
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}
    return document
