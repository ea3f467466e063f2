"""Outgoing webhooks: an outbox in the sandbox database and one background worker delivering it.

A system records an event in its outbox (a document of kind `webhook_event`) in the same
transaction as the change it reports, then calls `WebhookDispatcher.submit` after the commit.
The worker, an asyncio task on the app's loop started and stopped by the app's lifespan, POSTs
the event signed with `runtime.webhooks.sign` and retries with backoff (`RETRY_DELAYS`, about a
minute in all) while the receiver is down or answers non-2xx, then marks it failed. Delivery is
at least once: receivers deduplicate on `X-SupplyBridge-Event-Id`.

While no webhook URL is configured events stay pending; setting a target requeues them.
`add_webhook_admin_routes` gives a system its `GET/PUT /admin/webhook` to read and switch its target.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import httpx
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from runtime.webhooks import SIGNATURE_HEADER, sign
from sandbox.db import Documents, SandboxDatabase, utc_now

logger = logging.getLogger("sandbox.webhooks")

OUTBOX = "webhook_event"
EVENT_ID_HEADER = "X-SupplyBridge-Event-Id"
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0)


@dataclass
class WebhookTarget:
    url: str | None
    secret: str


class WebhookSettings(BaseModel):
    """A system's webhook target as `PUT /<system>/admin/webhook` sets it; `url: null` switches
    deliveries off (events stay pending until a URL is set again)."""

    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    secret: str | None = Field(default=None, max_length=500, description="null keeps the current secret")


def new_outbox_entry(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": event,
        "delivery": {"status": "pending", "attempts": 0, "last_error": None, "delivered_at": None},
    }


def outbox_view(entry: dict[str, Any]) -> dict[str, Any]:
    """The event as the receiver gets it, plus its delivery state."""
    return {**entry["event"], "delivery": entry["delivery"]}


class WebhookDispatcher:
    def __init__(
        self,
        database: SandboxDatabase,
        target: WebhookTarget,
        *,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        timeout: float = 5.0,
    ) -> None:
        self.database = database
        self.target = target
        self.targets: dict[str, WebhookTarget] = {}
        """Per-system targets (the vendor channel's acknowledgements); others use `target`."""
        self.retry_delays = retry_delays
        self.timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[str, str]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._retries: set[asyncio.TimerHandle] = set()
        self._client: httpx.AsyncClient | None = None

    async def start(self, systems: list[str]) -> None:
        """Start the worker and requeue what a previous run left pending in these systems' outboxes."""
        self._loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue()
        self._client = httpx.AsyncClient(timeout=self.timeout)
        self._task = asyncio.create_task(self._run(), name="sandbox-webhook-dispatcher")
        for system in systems:
            await self.requeue_pending(system)

    async def stop(self) -> None:
        for handle in self._retries:
            handle.cancel()
        self._retries.clear()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def target_for(self, system: str) -> WebhookTarget:
        return self.targets.get(system, self.target)

    def submit(self, system: str, event_id: str) -> None:
        """Queue a committed outbox entry for delivery. Safe to call from any thread."""
        if self._loop is None or self._queue is None or self._loop.is_closed():
            return  # not running (no lifespan): the entry stays pending
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (system, event_id))

    async def requeue_pending(self, system: str) -> None:
        entries = await anyio.to_thread.run_sync(self._load_all, system)
        for entry in entries:
            if entry["delivery"]["status"] == "pending":
                self.submit(system, entry["event"]["event_id"])

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            system, event_id = await self._queue.get()
            try:
                await self._attempt(system, event_id)
            except Exception:  # one bad entry must not stop deliveries
                logger.exception("webhook delivery of %s failed unexpectedly", event_id)

    async def _attempt(self, system: str, event_id: str) -> None:
        entry = await anyio.to_thread.run_sync(self._load, system, event_id)
        if entry is None or entry["delivery"]["status"] != "pending":
            return  # delivered already, failed for good, or removed by a reset
        delivery = dict(entry["delivery"])
        target = self.target_for(system)
        if not target.url:
            delivery["last_error"] = "no webhook URL configured"
            await anyio.to_thread.run_sync(self._save, system, event_id, delivery)
            return
        error = await self._post(target, entry["event"])
        delivery["attempts"] += 1
        delivery["last_error"] = error
        if error is None:
            delivery.update(status="delivered", delivered_at=utc_now())
        elif delivery["attempts"] > len(self.retry_delays):
            delivery["status"] = "failed"
        else:
            self._schedule_retry(system, event_id, self.retry_delays[delivery["attempts"] - 1])
        await anyio.to_thread.run_sync(self._save, system, event_id, delivery)

    async def _post(self, target: WebhookTarget, event: dict[str, Any]) -> str | None:
        """None when the receiver accepted the event, else why not."""
        assert self._client is not None and target.url is not None
        body = json.dumps(event, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(target.secret, body),
            EVENT_ID_HEADER: event["event_id"],
        }
        try:
            response = await self._client.post(target.url, content=body, headers=headers)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return f"{type(exc).__name__}: receiver unreachable"
        return None if response.is_success else f"receiver answered HTTP {response.status_code}"

    def _schedule_retry(self, system: str, event_id: str, delay: float) -> None:
        assert self._loop is not None and self._queue is not None
        queue = self._queue

        def requeue() -> None:
            self._retries.discard(handle)
            queue.put_nowait((system, event_id))

        handle = self._loop.call_later(delay, requeue)
        self._retries.add(handle)

    def _load(self, system: str, event_id: str) -> dict[str, Any] | None:
        with self.database.sessionmaker() as session:
            return Documents(session, system).get(OUTBOX, event_id)

    def _load_all(self, system: str) -> list[dict[str, Any]]:
        with self.database.sessionmaker() as session:
            return Documents(session, system).all(OUTBOX)

    def _save(self, system: str, event_id: str, delivery: dict[str, Any]) -> None:
        with self.database.sessionmaker() as session:
            docs = Documents(session, system)
            entry = docs.get(OUTBOX, event_id)
            if entry is not None:
                docs.put(OUTBOX, event_id, {**entry, "delivery": delivery})
                session.commit()


def add_webhook_admin_routes(router: APIRouter, system: str, *, own_target: bool) -> None:
    """Add `GET /admin/webhook` and `PUT /admin/webhook` for `system` to its router.

    `own_target`: the system posts to its own target (`dispatcher.targets[system]`: the vendor
    channel, the ERP, inventory); otherwise to the shared `dispatcher.target` (vendor management,
    whose URL the sandbox's `webhook_url` configures). Setting a target requeues the system's
    pending events, so switching a target off and on again delivers what waited meanwhile. The
    secret is never shown: only whether one is configured.
    """

    def target_of(dispatcher: WebhookDispatcher) -> WebhookTarget:
        if not own_target:
            return dispatcher.target
        if system not in dispatcher.targets:  # never fall back to the shared target's URL
            dispatcher.targets[system] = WebhookTarget(url=None, secret=dispatcher.target.secret)
        return dispatcher.targets[system]

    def shown(target: WebhookTarget) -> dict[str, Any]:
        return {"url": target.url, "secret_configured": bool(target.secret)}

    @router.get("/admin/webhook")
    def get_webhook(request: Request) -> dict[str, Any]:
        return shown(target_of(request.app.state.webhooks))

    @router.put("/admin/webhook")
    async def set_webhook(request: Request, settings: WebhookSettings) -> dict[str, Any]:
        dispatcher: WebhookDispatcher = request.app.state.webhooks
        target = target_of(dispatcher)
        target.url = settings.url
        if settings.secret is not None:
            target.secret = settings.secret
        await dispatcher.requeue_pending(system)
        return shown(target)
