"""Business events: recorded in the store with their audit entry, in one transaction."""

from __future__ import annotations

import asyncio

from temporalio import activity

from adapters.store import StorePort
from domain.audit import AuditRecord
from domain.events import PublishEventInput, PublishEventResult


class EventActivities:
    def __init__(self, *, store: StorePort) -> None:
        self._store = store

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
        return PublishEventResult(published=published)
