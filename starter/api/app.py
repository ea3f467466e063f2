"""The platform API. This first cut serves what the embedded stack needs: health, the vendor
system's status webhook (HMAC-verified, turned into a signal-with-start of the status-sync
workflow) and the remote payload codec the Temporal UI and CLI use to show encrypted payloads.
The governed /v1 process API (auth, idempotency, audit) builds on it."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from domain.events import VendorStatusEvent
from domain.purchasing import PoAcknowledgement, Receipt, purchase_order_workflow_id
from runtime.codec import codec_from_settings, decode_payloads_json, encode_payloads_json
from runtime.settings import Settings
from runtime.temporal_client import connect
from runtime.webhooks import SIGNATURE_HEADER, verify
from starter.api.deps import TemporalClient
from starter.operations import deliver_po_signal, deliver_status_event

EventT = TypeVar("EventT", bound=BaseModel)

MAX_WEBHOOK_BYTES = 64 * 1024


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """RFC 9457 problem details."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type="application/problem+json")


def create_app(settings: Settings, *, client: Client | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.temporal = client or await connect(settings)
        yield

    app = FastAPI(title="SupplyBridge API", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    codec = codec_from_settings(settings)
    ui_origins = {settings.resolved_ui_url, f"http://localhost:{settings.temporal_ui_port}"}
    app.add_middleware(
        CORSMiddleware,
        allow_origins=sorted(ui_origins),
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["*"],
        allow_credentials=True,
    )

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"])
    async def ready(temporal: TemporalClient) -> JSONResponse:
        try:
            await temporal.service_client.check_health()
        except Exception as error:
            return problem(503, "Not ready", f"Temporal is not reachable: {type(error).__name__}")
        return JSONResponse({"status": "ready"})

    async def signed_event(request: Request, model: type[EventT]) -> EventT | JSONResponse:
        """The webhook body as `model`, or the problem response refusing it."""
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BYTES:
            return problem(413, "Payload too large", f"the body is over {MAX_WEBHOOK_BYTES} bytes")
        refused = verify(settings.webhook_secret.get_secret_value(), body, request.headers.get(SIGNATURE_HEADER))
        if refused:
            return problem(401, "Signature refused", refused)
        try:
            return model.model_validate_json(body)
        except ValidationError as error:
            errors = [{"field": ".".join(map(str, e["loc"])), "reason": e["msg"]} for e in error.errors()]
            return problem(422, "Invalid event", "the event body is not valid", errors=errors)

    @app.post("/v1/events/vendor-status", status_code=202, tags=["events"])
    async def vendor_status_event(request: Request, temporal: TemporalClient) -> JSONResponse:
        event = await signed_event(request, VendorStatusEvent)
        if isinstance(event, JSONResponse):
            return event
        workflow_id = await deliver_status_event(temporal, settings, event)
        return JSONResponse({"workflow_id": workflow_id, "event_id": event.event_id}, status_code=202)

    @app.post("/v1/events/po-acknowledgements", status_code=202, tags=["events"])
    async def po_acknowledgement_event(request: Request, temporal: TemporalClient) -> JSONResponse:
        """The vendor channel's acknowledgement, signalled to the PO's workflow. An acknowledgement
        for a PO whose workflow is not running is accepted and reported as not delivered (it
        cannot change a finished PO), so the sender does not retry it."""
        ack = await signed_event(request, PoAcknowledgement)
        if isinstance(ack, JSONResponse):
            return ack
        workflow_id = purchase_order_workflow_id(ack.po_number)
        delivered = await deliver_po_signal(temporal, ack.po_number, "acknowledgement_received", ack)
        return JSONResponse(
            {"workflow_id": workflow_id, "event_id": ack.event_id, "delivered": delivered}, status_code=202
        )

    @app.post("/v1/events/erp-receipts", status_code=202, tags=["events"])
    async def erp_receipt_event(request: Request, temporal: TemporalClient) -> JSONResponse:
        """The ERP's receiving event (`receipt.recorded`), signalled to the PO's workflow, which
        counts each receipt id once (receipts it recorded itself come back here too)."""
        receipt = await signed_event(request, Receipt)
        if isinstance(receipt, JSONResponse):
            return receipt
        delivered = await deliver_po_signal(temporal, receipt.po_number, "receipt_recorded", receipt)
        body = {"workflow_id": purchase_order_workflow_id(receipt.po_number), "delivered": delivered}
        return JSONResponse({**body, "receipt_id": receipt.receipt_id}, status_code=202)

    @app.post("/codec/encode", tags=["codec"])
    async def codec_encode(request: Request) -> dict[str, Any]:
        return await encode_payloads_json(codec, await request.json())

    @app.post("/codec/decode", tags=["codec"])
    async def codec_decode(request: Request) -> dict[str, Any]:
        return await decode_payloads_json(codec, await request.json())

    return app
