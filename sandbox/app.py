"""The sandbox app: every external system under its own prefix in one FastAPI app.

Request path, outermost first: bearer-token check -> fault injection -> idempotency (and the
write lock) -> the system's routes. Errors are `{"code", "detail"}` JSON everywhere.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox import (
    accounts_payable,
    admin,
    analytics,
    contracts,
    erp,
    inventory,
    screening,
    vendor_channel,
    vendor_channel_edi,
    vendor_management,
)
from sandbox.config import SandboxConfig
from sandbox.db import SandboxDatabase
from sandbox.errors import error_response, install_error_handlers
from sandbox.faults import FaultMiddleware, FaultRegistry
from sandbox.idempotency import IdempotencyMiddleware
from sandbox.seed import seed_database
from sandbox.synthetic import generate
from sandbox.system import SandboxSystem
from sandbox.webhooks import WebhookDispatcher, WebhookTarget

SYSTEMS: tuple[SandboxSystem, ...] = (
    erp.SYSTEM,
    vendor_management.SYSTEM,
    contracts.SYSTEM,
    screening.SYSTEM,
    inventory.SYSTEM,
    vendor_channel.SYSTEM,
    accounts_payable.SYSTEM,
    analytics.SYSTEM,
)
OPEN_PATHS = frozenset({"/health"})
SIGNED_PATHS = frozenset({analytics.EVENTS_PATH})  # POSTs authenticated by their webhook signature instead


class BearerTokenMiddleware:
    """401 `unauthorized` unless `Authorization: Bearer <token>`; /health stays open, and so do the
    POSTs of SIGNED_PATHS (their handler checks the webhook signature)."""

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        signed = scope.get("method") == "POST" and scope.get("path") in SIGNED_PATHS
        if self.expected is None or scope["type"] != "http" or scope["path"] in OPEN_PATHS or signed:
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope.get("headers", []) if name == b"authorization"), b"")
        if hmac.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        response = error_response(
            401, "unauthorized", "a valid bearer token is required", {"WWW-Authenticate": "Bearer"}
        )
        await response(scope, receive, send)


def create_app(config: SandboxConfig) -> FastAPI:
    """The app, its database seeded when empty (or reset when `config.reset`)."""
    database = SandboxDatabase(config.database_url)
    if seed_database(database, SYSTEMS, config.seed_dir, reset=config.reset) and config.synthetic is not None:
        with database.sessionmaker() as session:
            generate(session, config.synthetic)
            session.commit()
    dispatcher = WebhookDispatcher(database, WebhookTarget(url=config.webhook_url, secret=config.webhook_secret))
    dispatcher.targets[vendor_channel.NAME] = WebhookTarget(url=config.ack_webhook_url, secret=config.webhook_secret)
    dispatcher.targets[erp.NAME] = WebhookTarget(url=config.erp_webhook_url, secret=config.webhook_secret)
    dispatcher.targets[inventory.NAME] = WebhookTarget(url=config.inventory_webhook_url, secret=config.webhook_secret)
    acknowledgements = vendor_channel.AckScheduler(database, dispatcher)
    edi_partner_answers = vendor_channel_edi.PartnerAnswers(database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await dispatcher.start([system.name for system in SYSTEMS])
        await acknowledgements.start()
        await edi_partner_answers.start()
        try:
            yield
        finally:
            await edi_partner_answers.stop()
            await acknowledgements.stop()
            await dispatcher.stop()
            database.dispose()

    app = FastAPI(title="SupplyBridge sandbox systems", version="1", lifespan=lifespan)
    app.state.config = config
    app.state.database = database
    app.state.systems = SYSTEMS
    app.state.faults = FaultRegistry(system.name for system in SYSTEMS)
    app.state.webhooks = dispatcher
    app.state.ack_scheduler = acknowledgements
    app.state.edi_partner_answers = edi_partner_answers
    install_error_handlers(app)
    app.include_router(admin.router)
    for system in SYSTEMS:
        app.include_router(system.router)
    # add_middleware wraps: the last one added runs first.
    app.add_middleware(IdempotencyMiddleware, database=database)
    app.add_middleware(FaultMiddleware, registry=app.state.faults)
    app.add_middleware(BearerTokenMiddleware, token=config.token)
    return app
