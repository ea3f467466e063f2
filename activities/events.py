"""Business events: recorded in the store with their audit entry and their outbox entries (one per
subscription receiving it: activities/event_relay.py delivers them), in one transaction."""

from __future__ import annotations

import asyncio

from temporalio import activity

from activities.event_relay import OutboxBell
from adapters.store import StorePort
from domain.audit import AuditRecord
from domain.events import PublishEventInput, PublishEventResult


class EventActivities:
    def __init__(self, *, store: StorePort, bell: OutboxBell | None = None) -> None:
        self._store = store
        self._bell = bell

    @activity.defn(name="publish_event")
    async def publish_event(self, params: PublishEventInput) -> PublishEventResult:
        """Record the event and, in the same transaction, its audit entry (the workflow's
        business outcome or step, with the workflow as the actor)."""
        event = params.event
        audit = AuditRecord(
            actor=f"workflow:{event.workflow_id}" if event.workflow_id else "platform",
            action=event.type,
            record_type=event.type.split(".", 1)[0],
            record_id=event.subject,
            outcome=str(event.data.get("outcome") or event.data.get("action") or "") or None,
            details=event.data,
            at=event.occurred_at,
        )
        published = await asyncio.to_thread(self._store.append_event, event, audit=audit)
        if published and self._bell is not None:
            self._bell.ring()  # its outbox entries are committed: the relay of this process goes now
        return PublishEventResult(published=published)
