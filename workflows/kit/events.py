"""Business events from workflows, with one event-id scheme: `<workflow id>:<run id>:<n>:<type>`,
where n numbers the run's events. A retried publish carries the same id (recorded once by the
store); two events of one type in a run stay distinct. An event that must be published once
across runs (a credential warning that daily runs find again) passes its own `key`: its id is
`<key>:<type>`, so the store records it the first time only."""

from __future__ import annotations

from collections.abc import Mapping

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.events import EventActivities
    from domain.events import BusinessEvent, PublishEventInput
    from workflows.kit.calls import call


class EventPublisher:
    def __init__(self, *, local: bool) -> None:
        """`local`: publish as a local activity (runs recorded before a workflow switched keep
        the kind they were recorded with)."""
        self.local = local
        self.published = 0

    async def publish(
        self, subject: str, event_type: str, data: Mapping[str, object], *, key: str | None = None
    ) -> None:
        self.published += 1
        info = workflow.info()
        event = BusinessEvent(
            event_id=f"{key}:{event_type}"
            if key
            else f"{info.workflow_id}:{info.run_id}:{self.published}:{event_type}",
            type=event_type,
            subject=subject,
            workflow_id=info.workflow_id,
            occurred_at=workflow.now(),
            data=dict(data),
        )
        await call(EventActivities.publish_event, PublishEventInput(event=event), local=self.local)
