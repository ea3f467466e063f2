"""The event catalog: every business event type the platform publishes, with a one-line
description and the model of its `data`, and the JSON Schemas (draft 2020-12) of the CloudEvents
that carry them (pure: no I/O).

- `EVENT_TYPES`: our type (`supplier.onboarded`) -> `EventType` (description, data model). The
  data models are in domain/event_catalog_types.py and domain/event_catalog_orders.py.
  tests/unit/test_event_catalog.py reads every `publish(` of workflows/ and fails when a type
  published there is missing here, or a type here is published nowhere (`subscription.test`
  aside: the subscriptions' test delivery, which is never stored).
- `cloud_event_schema(type, schema_base=...)`: the whole CloudEvent as domain/cloud_events.py
  writes it (structured JSON), `$id` = `<schema_base>/<type>`: the attributes, the extensions
  `sequence` and `workflowid`, and `data` (the model's schema, its `$defs` hoisted to the root so
  its references resolve). Unknown attributes are allowed, as CloudEvents allows extensions.
- The same schema is in the repository (schemas/events/, written by `python -m
  starter.event_schemas` with a fixed base) and served by the API
  (`GET /v1/events/schemas/<type>`, with the API's own base URL); only `$id` and the index's
  URLs differ.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.cloud_events import CONTENT_TYPE, cloud_type
from domain.decisions import DecisionKind
from domain.event_catalog_orders import (
    InvoiceApproved,
    InvoiceDuplicateRefused,
    InvoiceExceptionEscalated,
    InvoiceExceptionRaised,
    InvoiceExceptionResolved,
    PoAcknowledged,
    PoCancelled,
    PoClosed,
    PoEscalated,
    PoExceptionRaised,
    PoExceptionResolved,
    PoInvoiceFailed,
    PoInvoiceOverdue,
    PoRejected,
    PoReleased,
    ReplenishmentCompleted,
    ReplenishmentOrdered,
    SourcingException,
)
from domain.event_catalog_types import (
    AlertRaised,
    AlertRenotified,
    AlertResolved,
    ConflictResolved,
    CredentialExpired,
    CredentialExpiring,
    EventData,
    HoldPlaced,
    HoldReleased,
    MasterDataDrifted,
    OnboardingRejected,
    ReviewEscalated,
    ReviewRequested,
    ReviewTaskDecided,
    StatusChangeUnmatched,
    SubscriptionTest,
    SupplierExcluded,
    SupplierOnboarded,
    SyncCompleted,
)

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
EVENT_CONTENT_TYPE = "application/json"
"""`datacontenttype`: the `data` of every event is JSON."""


class EventType(BaseModel):
    model_config = ConfigDict(frozen=True)

    description: str
    data: type[EventData]


def _decided(kind: DecisionKind, description: str) -> tuple[str, EventType]:
    """A review task's decision (workflows/compliance.py `ReviewTask`, type `<kind>.decided`)."""
    return f"{kind.value}.decided", EventType(description=description, data=ReviewTaskDecided)


# the kinds of review task that compliance (workflows/compliance.py) and intake (activities/intake*.py) open
_REVIEW_TASKS_DECIDED = dict(
    [
        _decided(
            DecisionKind.COMPLIANCE_REVIEW,
            "Compliance decided the review of a supplier the rescreen found excluded (reject: reinstated)",
        ),
        _decided(
            DecisionKind.CREDENTIAL_RENEWAL,
            "Vendor-master-data decided a credential renewal (approve: the renewed document is on file)",
        ),
        _decided(
            DecisionKind.CATALOG_PRICE_DISCREPANCY,
            "Contracting decided a catalog (832) price that differs from the supplier's contract",
        ),
        _decided(
            DecisionKind.SHIP_NOTICE_EXCEPTION,
            "Receiving decided a ship notice (856) with a line not on the PO or more shipped than ordered",
        ),
        _decided(
            DecisionKind.FUNCTIONAL_ACK_OVERDUE,
            "Purchasing decided an 850 sent that no 997/999 acknowledged in time",
        ),
    ]
)

EVENT_TYPES: dict[str, EventType] = {
    "supplier.onboarded": EventType(
        description="A supplier was onboarded: created in the ERP, or linked to the ERP supplier of the same tax id",
        data=SupplierOnboarded,
    ),
    "supplier.onboarding_rejected": EventType(
        description="A supplier's onboarding was rejected (validation, exclusion, TIN mismatch or review)",
        data=OnboardingRejected,
    ),
    "supplier.review_requested": EventType(
        description="A possible duplicate supplier awaits vendor-master-data's review", data=ReviewRequested
    ),
    "supplier.review_escalated": EventType(
        description="A duplicate review passed its SLA and was escalated to the team's managers",
        data=ReviewEscalated,
    ),
    "supplier.excluded": EventType(
        description="The rescreen found an active supplier excluded: suspended, a compliance review opened",
        data=SupplierExcluded,
    ),
    "supplier.credential_expiring": EventType(
        description="A supplier's credential expires in 60, 30 or 7 days (once per band); a renewal task opened",
        data=CredentialExpiring,
    ),
    "supplier.credential_expired": EventType(
        description="A supplier's credential expired: its vendor status is now credential_expired",
        data=CredentialExpired,
    ),
    "supplier.hold_placed": EventType(
        description="A vendor status that stops purchasing was applied: the ERP supplier and its open POs held",
        data=HoldPlaced,
    ),
    "supplier.hold_released": EventType(
        description="A vendor status that allows purchasing was applied: the ERP supplier and its POs released",
        data=HoldReleased,
    ),
    "supplier.status_change_unmatched": EventType(
        description="A vendor status change for a vendor no ERP supplier is cross-referenced to: nothing to hold",
        data=StatusChangeUnmatched,
    ),
    **_REVIEW_TASKS_DECIDED,
    "master_data.conflict_resolved": EventType(
        description="A master-data conflict was decided by a steward (and applied, kept or corrected at source)",
        data=ConflictResolved,
    ),
    "master_data.drifted": EventType(
        description="A master-data sync found records that differed between systems", data=MasterDataDrifted
    ),
    "sync.completed": EventType(description="A master-data sync finished, with its summary", data=SyncCompleted),
    "purchase_order.released": EventType(
        description="A PO was created in the ERP, its inventory reserved and its vendor notified",
        data=PoReleased,
    ),
    "purchase_order.acknowledgement_overdue": EventType(
        description="The vendor did not acknowledge a PO within its SLA: escalated to purchasing's managers",
        data=PoEscalated,
    ),
    "purchase_order.acknowledged": EventType(
        description="The vendor's acknowledgement was applied, line by line", data=PoAcknowledged
    ),
    "purchase_order.closed": EventType(
        description="A PO was received and invoiced in full and closed in the ERP", data=PoClosed
    ),
    "purchase_order.invoice_overdue": EventType(
        description="A PO received in full is not invoiced within its SLA: handed to accounts-payable",
        data=PoInvoiceOverdue,
    ),
    "purchase_order.invoice_failed": EventType(
        description="An invoice run of the PO failed: the PO is handed to accounts-payable", data=PoInvoiceFailed
    ),
    "purchase_order.rejected": EventType(
        description="A PO was rejected (validation, supplier, contract, pricing, approval or the vendor)",
        data=PoRejected,
    ),
    "purchase_order.cancelled": EventType(
        description="A PO was cancelled and compensated (released, cancelled with the vendor and in the ERP)",
        data=PoCancelled,
    ),
    "purchase_order.exception_raised": EventType(
        description="A PO awaits a team's decision (pricing, contract exception or purchase approval)",
        data=PoExceptionRaised,
    ),
    "purchase_order.exception_resolved": EventType(
        description="A PO's open decision was taken", data=PoExceptionResolved
    ),
    "purchase_order.exception_escalated": EventType(
        description="A PO's open decision passed its SLA and was escalated to the team's managers",
        data=PoExceptionRaised,
    ),
    "invoice.duplicate_refused": EventType(
        description="An invoice duplicates one already in AP: refused, never captured or paid",
        data=InvoiceDuplicateRefused,
    ),
    "invoice.approved": EventType(
        description="An invoice matched its PO and receipts and was approved for payment", data=InvoiceApproved
    ),
    "invoice.exception_raised": EventType(
        description="An invoice did not match: held in AP and the ERP, a team asked to resolve it",
        data=InvoiceExceptionRaised,
    ),
    "invoice.exception_resolved": EventType(
        description="An invoice exception was resolved (variance accepted, short-paid, credit memo, rejected)",
        data=InvoiceExceptionResolved,
    ),
    "invoice.exception_escalated": EventType(
        description="An invoice exception passed its SLA and was escalated to the team's managers",
        data=InvoiceExceptionEscalated,
    ),
    "replenishment.sourcing_exception": EventType(
        description="Stock to replenish and no eligible contracted vendor: purchasing decides",
        data=SourcingException,
    ),
    "replenishment.ordered": EventType(
        description="A replenishment placed its order: its purchase-order workflow starts", data=ReplenishmentOrdered
    ),
    "replenishment.completed": EventType(
        description="A replenishment ended (replenished, not needed, dismissed or the order failed)",
        data=ReplenishmentCompleted,
    ),
    "alert.raised": EventType(
        description="An alert rule's condition holds (an SLA breached, dead letters open, sync accuracy low, a "
        "system failing, a run failed): one open alert per rule and subject, for the rule's team",
        data=AlertRaised,
    ),
    "alert.renotified": EventType(
        description="An alert still open past the re-notify interval (SUPPLYBRIDGE_ALERT_RENOTIFY_MINUTES)",
        data=AlertRenotified,
    ),
    "alert.resolved": EventType(
        description="An alert's condition cleared (or its rule is no longer in force): the alert is closed",
        data=AlertResolved,
    ),
    "subscription.test": EventType(
        description="A test delivery to one subscription (supplybridge subscriptions test, "
        "POST /v1/subscriptions/{id}/test): sent to it alone, never stored or sent to others",
        data=SubscriptionTest,
    ),
}


class CatalogEntry(BaseModel):
    type: str
    cloudevents_type: str
    description: str
    schema_url: str


class CatalogIndex(BaseModel):
    """Every event type with its description and the URL of its CloudEvent schema."""

    schema_base: str
    types: list[CatalogEntry]


class UnknownEventType(KeyError):
    pass


def event_type(name: str) -> EventType:
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise UnknownEventType(name) from None


def data_schema(name: str, *, schema_base: str | None = None) -> dict[str, Any]:
    """The JSON Schema of the type's `data` (its own `$defs` at its root); with `schema_base`, a
    standalone document (`$schema`, `$id` `<schema_base>/<type>/data`: an event's `dataschema`)."""
    schema = event_type(name).data.model_json_schema()
    if schema_base is None:
        return schema
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{schema_base.rstrip('/')}/{name}/data", **schema}


def cloud_event_schema(name: str, *, schema_base: str) -> dict[str, Any]:
    """The JSON Schema of a whole CloudEvent of the type, `$id` `<schema_base>/<type>`."""
    entry = event_type(name)
    data = data_schema(name)
    definitions = data.pop("$defs", None)
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{schema_base.rstrip('/')}/{name}",
        "title": cloud_type(name),
        "description": f"{entry.description}. A CloudEvent 1.0 in the structured JSON format ({CONTENT_TYPE}).",
        "type": "object",
        "required": ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "sequence", "data"],
        "properties": {**copy.deepcopy(_ATTRIBUTES), "type": {"const": cloud_type(name)}, "data": data},
        "additionalProperties": True,
    }
    if definitions:
        schema["$defs"] = definitions
    return schema


def catalog_index(schema_base: str) -> CatalogIndex:
    base = schema_base.rstrip("/")
    return CatalogIndex(
        schema_base=base,
        types=[
            CatalogEntry(
                type=name, cloudevents_type=cloud_type(name), description=entry.description, schema_url=f"{base}/{name}"
            )
            for name, entry in sorted(EVENT_TYPES.items())
        ],
    )


_ATTRIBUTES: dict[str, Any] = {
    "specversion": {"const": "1.0"},
    "id": {
        "type": "string",
        "minLength": 1,
        "description": "the event's id, the same on every redelivery: deduplicate on it",
    },
    "source": {"type": "string", "minLength": 1, "format": "uri-reference", "description": "the platform"},
    "subject": {"type": "string", "minLength": 1, "description": "the business key: a supplier id, a PO number"},
    "time": {"type": "string", "format": "date-time", "description": "when it happened"},
    "datacontenttype": {"const": EVENT_CONTENT_TYPE},
    "dataschema": {"type": "string", "format": "uri", "description": "the URL of the schema of `data` (<this>/data)"},
    "sequence": {
        "type": "string",
        "pattern": "^[0-9]+$",
        "description": "the event's position in the platform's store, increasing: order what you receive by it",
    },
    "workflowid": {
        "type": "string",
        "minLength": 1,
        "description": "the workflow run that published it (look it up in the Temporal UI)",
    },
}
