"""A business event as it leaves the platform: a CloudEvents 1.0 event in the JSON format, built
and written with the `cloudevents` package.

- `type`: `org.supplybridge.<our type>` (`org.supplybridge.supplier.onboarded`);
- `source`: the platform (`SUPPLYBRIDGE_EVENTS_SOURCE`, `urn:supplybridge:platform` by default);
- `id`: our event id (one per event, the same on every redelivery: receivers deduplicate on it);
- `subject`: the business key (a supplier id, a PO number); `time`: when it happened;
- `datacontenttype`: application/json; `dataschema`: the URL of the JSON Schema of the type's
  `data` (`<schema base>/<our type>/data`, served at `/v1/events/schemas/<our type>/data`, as the
  spec has it: the schema `data` adheres to; the whole event's is one level up);
- `data`: the event's data with every sensitive value masked (tax ids, bank accounts: as the
  audit trail masks them, last 4 kept);
- extensions `sequence` (the event's position in our store, increasing: a receiver can order
  what it gets) and `workflowid` (the run that published it, to look it up in the Temporal UI).
"""

from __future__ import annotations

from typing import Any

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from domain.audit import mask_sensitive
from domain.events import BusinessEvent

TYPE_PREFIX = "org.supplybridge."
CONTENT_TYPE = JSONFormat.CONTENT_TYPE
_FORMAT = JSONFormat()


def cloud_type(event_type: str) -> str:
    return TYPE_PREFIX + event_type


def cloud_event(event: BusinessEvent, *, source: str, sequence: int, schema_base: str | None = None) -> CloudEvent:
    attributes: dict[str, Any] = {
        "specversion": "1.0",
        "id": event.event_id,
        "source": source,
        "type": cloud_type(event.type),
        "subject": event.subject,
        "time": event.occurred_at,
        "datacontenttype": "application/json",
        "sequence": str(sequence),
    }
    if schema_base:
        attributes["dataschema"] = f"{schema_base.rstrip('/')}/{event.type}/data"
    if event.workflow_id:
        attributes["workflowid"] = event.workflow_id
    return CloudEvent(attributes, mask_sensitive(event.model_dump(mode="json")["data"]))


def structured(event: CloudEvent) -> bytes:
    """The event in the structured JSON format (`application/cloudevents+json`)."""
    return _FORMAT.write(event)


def read(body: bytes | str) -> CloudEvent:
    """A structured JSON CloudEvent back (receivers and tests)."""
    event = _FORMAT.read(CloudEvent, body)
    assert isinstance(event, CloudEvent)
    return event
