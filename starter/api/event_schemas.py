"""The event catalog over HTTP: `GET /v1/events/schemas` (every business event type with its
description and the URL of its schema) and `GET /v1/events/schemas/{event_type}` (the JSON Schema,
draft 2020-12, of that type's CloudEvent, `application/schema+json`; 404 for a type the platform
does not publish). The schemas are domain/event_catalog.py's; the repository holds the same ones
in schemas/events/ (`python -m starter.event_schemas`), with a fixed base instead of the API's URL.

Decisions:
- Public, like /openapi.json: a schema holds no data, only the shape of what subscribers receive,
  and a receiver (or its developer) must be able to fetch the `dataschema` an event names without
  a platform credential. The address rate limit applies as to every route.
- A schema's `$id` and the index's URLs are this API's own: `<request base URL>/v1/events/schemas/
  <type>`, from the request's scheme, Host and root path (so behind a proxy, the public address
  when the proxy passes them on). The URL a schema is fetched from is its id. The relay's
  `dataschema` base (worker.py) should be this same public address, so that an event's
  `dataschema` is where its schema is served.
- Cacheable for 5 minutes: a schema changes only with a deployment.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from domain.event_catalog import EVENT_TYPES, CatalogIndex, catalog_index, cloud_event_schema, data_schema
from starter.api.problems import PROBLEM_RESPONSES, ProblemError

PREFIX = "/v1/events/schemas"
SCHEMA_MEDIA_TYPE = "application/schema+json"
CACHE_CONTROL = {"Cache-Control": "public, max-age=300"}
# no 401 or 403: no credential is asked for
PUBLIC_RESPONSES: dict[int | str, dict[str, Any]] = {status: PROBLEM_RESPONSES[status] for status in (429, 500)}
router = APIRouter(prefix=PREFIX, tags=["events"], responses=PUBLIC_RESPONSES)
SCHEMA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the JSON Schema (draft 2020-12) of the type's CloudEvent",
        "content": {SCHEMA_MEDIA_TYPE: {"schema": {"type": "object"}}},
    },
    404: PROBLEM_RESPONSES[404] | {"description": "the platform publishes no event of this type"},
}


def schema_base(request: Request) -> str:
    """Where this API serves the schemas (also their `$id` base)."""
    return str(request.base_url).rstrip("/") + PREFIX


@router.get("", response_model=CatalogIndex)
async def event_schema_index(request: Request) -> JSONResponse:
    """Every business event type the platform publishes (`org.supplybridge.<type>`), with its
    description and the URL of its CloudEvent's JSON Schema. No authentication."""
    index = catalog_index(schema_base(request))
    return JSONResponse(index.model_dump(mode="json"), headers=CACHE_CONTROL)


@router.get("/{event_type}", response_class=JSONResponse, responses=SCHEMA_RESPONSES)
async def event_schema(event_type: str, request: Request) -> JSONResponse:
    """The JSON Schema of a whole CloudEvent of `event_type` (e.g. `supplier.onboarded`): the
    attributes, the `sequence` and `workflowid` extensions and the type's `data`. No
    authentication."""
    base = schema_base(request)
    _known(event_type, base)
    schema = cloud_event_schema(event_type, schema_base=base)
    return JSONResponse(schema, media_type=SCHEMA_MEDIA_TYPE, headers=CACHE_CONTROL)


@router.get("/{event_type}/data", response_class=JSONResponse, responses=SCHEMA_RESPONSES)
async def event_data_schema(event_type: str, request: Request) -> JSONResponse:
    """The JSON Schema of the `data` of an event of `event_type`: what its CloudEvent's
    `dataschema` names. No authentication."""
    base = schema_base(request)
    _known(event_type, base)
    return JSONResponse(data_schema(event_type, schema_base=base), media_type=SCHEMA_MEDIA_TYPE, headers=CACHE_CONTROL)


def _known(event_type: str, base: str) -> None:
    if event_type not in EVENT_TYPES:
        raise ProblemError(
            404,
            "Not found",
            f"the platform publishes no event of type {event_type[:100]!r}; GET {PREFIX} lists the known types",
            index=base,
        )
