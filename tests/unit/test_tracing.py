"""Issue 16, part 3: one trace from an API request through the workflow, its activities and the
adapter's HTTP call to the external system, with no tax id, bank number or personal name in any
span (runtime/telemetry.py, domain/observability.py)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapters.erp_http import HttpErp
from adapters.http import SystemClient
from domain.observability import REDACTED, scrub_attributes, scrub_text, scrub_url
from domain.onboarding import OnboardingResult
from domain.supplier import ErpSupplier
from runtime import binaries
from runtime.http_server import embedded_server, wait_until_healthy
from runtime.namespace import ensure_search_attributes
from runtime.ports import free_port
from runtime.settings import Settings
from runtime.telemetry import instrument_api, instrument_http, span_exporters, tracer_provider, uninstrument_http
from runtime.temporal_client import data_converter
from starter.api.app import create_app
from starter.api.security import issue_token
from store import Store
from tests.examples import example_json
from tests.support.fakes import FakeErp
from tests.support.harness import Harness, seeded_systems
from worker import WORKFLOWS, activity_functions, workflow_runner
from workflows.search_attributes import REGISTRATION

PERSON = "Dana Whitfield"
SSN = "512-44-7781"
ACCOUNT = "883100245561"
ROUTING = "021000021"


# --- the scrubbing rules --------------------------------------------------------------------------


def test_urls_lose_query_strings_and_segments_that_are_not_ids() -> None:
    url = f"http://erp:8300/erp/suppliers?tax_id={SSN}&name=Dana%20Whitfield&limit=500"
    assert scrub_url(url) == "http://erp:8300/erp/suppliers?REDACTED"
    assert scrub_url("/v1/runs/purchase-order-PO-2026-000451") == "/v1/runs/purchase-order-PO-2026-000451"
    assert scrub_url(f"/erp/suppliers/{SSN}/bank-accounts") == "/erp/suppliers/{redacted}/bank-accounts"
    assert scrub_url("/erp/suppliers/Dana%20Whitfield") == "/erp/suppliers/{redacted}"
    assert scrub_url(f"/erp/accounts/{ACCOUNT}") == "/erp/accounts/{redacted}"
    assert scrub_url("https://user:secret@erp.example/x#frag") == "https://erp.example/x"


def test_text_loses_tax_ids_digit_runs_and_validation_echoes() -> None:
    text = f"EIN 45-2873311, SSN {SSN}, account {ACCOUNT}, input_value='{PERSON}', input_value=7"
    scrubbed = scrub_text(text)
    for secret in ("45-2873311", SSN, ACCOUNT, PERSON):
        assert secret not in scrubbed
    assert (
        scrub_text("PO-2026-000451 closed at 2026-11-25T01:22:05Z") == "PO-2026-000451 closed at 2026-11-25T01:22:05Z"
    )


def test_attributes_that_capture_headers_or_queries_are_dropped_and_temporal_ids_kept() -> None:
    kept = scrub_attributes(
        {
            "http.request.header.authorization": ("Bearer x",),
            "url.query": f"tax_id={SSN}",
            "url.full": f"http://erp/erp/suppliers?tax_id={SSN}",
            "temporalRunID": "123456789012-aaaa",
            "http.status_code": 200,
            "exception.message": f"refused {ACCOUNT}",
        }
    )
    assert kept == {
        "url.full": "http://erp/erp/suppliers?REDACTED",
        "temporalRunID": "123456789012-aaaa",
        "http.status_code": 200,
        "exception.message": f"refused {REDACTED}",
    }


digits = st.text(alphabet="0123456789", min_size=9, max_size=17)


@given(secret=digits, before=st.text(max_size=20), after=st.text(max_size=20))
def test_no_long_number_survives_in_text_or_in_a_url(secret: str, before: str, after: str) -> None:
    assert secret not in scrub_text(f"{before}{secret}{after}")
    assert secret not in scrub_url(f"http://erp/suppliers/{secret}?q={secret}")
    assert secret not in scrub_url(f"/x?{before}{secret}{after}")


@given(query=st.text(min_size=1, max_size=40))
def test_no_query_string_survives(query: str) -> None:
    assert scrub_url(f"http://erp/erp/suppliers?{query}") in (
        "http://erp/erp/suppliers?REDACTED",
        "http://erp/erp/suppliers",
    )


def test_exporters_follow_the_settings_and_without_one_nothing_is_instrumented() -> None:
    assert span_exporters(Settings(environment="development")) == []
    both = span_exporters(Settings(environment="development", otlp_endpoint="http://otel:4318/", telemetry="console"))
    assert [type(e).__name__ for e in both] == ["OTLPSpanExporter", "ConsoleSpanExporter"]
    assert both[0]._endpoint == "http://otel:4318/v1/traces"  # type: ignore[attr-defined]
    app = create_app(Settings(environment="development"))
    instrument_api(app)  # this process exports no spans: the app stays as it is
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)


# --- one trace, API to external system ------------------------------------------------------------


class SearchingErp(FakeErp):
    """The fake ERP, except that the supplier search goes over HTTP to a local server."""

    http: HttpErp | None = None

    async def list_suppliers(
        self,
        *,
        tax_id: str | None = None,
        name: str | None = None,
        status: str | None = None,
        external_id: str | None = None,
    ) -> AsyncIterator[ErpSupplier]:
        assert self.http is not None
        async for supplier in self.http.list_suppliers(
            tax_id=tax_id, name=name, status=status, external_id=external_id
        ):
            yield supplier


@contextlib.asynccontextmanager
async def local_erp(queries: list[str]) -> AsyncIterator[str]:
    """A real HTTP server standing in for the ERP's supplier search (nothing found)."""

    async def suppliers(request: Request) -> JSONResponse:
        queries.append(request.url.query)
        return JSONResponse({"items": [], "has_more": False})

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    port = free_port()
    server = embedded_server(
        Starlette(routes=[Route("/erp/suppliers", suppliers), Route("/health", health)]), "127.0.0.1", port
    )
    task = asyncio.create_task(server.serve())
    try:
        await wait_until_healthy(f"http://127.0.0.1:{port}/health", server_task=task)
        yield f"http://127.0.0.1:{port}/erp"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@contextlib.asynccontextmanager
async def traced_api(h: Harness, settings: Settings, provider: TracerProvider) -> AsyncIterator[httpx.AsyncClient]:
    """The real app, instrumented as `create_app`'s caller instruments it, over the test's Temporal
    (ASGITransport runs no lifespan: the client and store are set on its state, as
    tests/support/api.py does)."""
    with Store(settings.resolved_store_url) as store:
        app = create_app(settings, client=h.client, store=store)
        instrument_api(app, provider)
        app.state.temporal, app.state.store = h.client, store
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            yield client


def sole_proprietor() -> dict[str, Any]:
    body = example_json("suppliers/new-supplier.json")
    body["source"]["id"] = "VM-300517"
    body["legal_name"] = PERSON
    body["tax_id"] = {"kind": "SSN", "value": SSN}
    body["bank_account"].update(account_number=ACCOUNT, routing_number=ROUTING, holder_name=PERSON)
    body["contacts"] = [{"name": PERSON, "email": "dana@whitfield.example", "role": "owner"}]
    return body


def one(spans: list[ReadableSpan], name: str, kind: SpanKind | None = None) -> ReadableSpan:
    found = [s for s in spans if s.name == name and (kind is None or s.kind == kind)]
    assert len(found) == 1, (name, [s.name for s in spans])
    return found[0]


def child_of(span: ReadableSpan, parent: ReadableSpan) -> bool:
    return span.parent is not None and parent.context is not None and span.parent.span_id == parent.context.span_id


async def test_one_trace_runs_from_the_api_request_to_the_external_system_and_carries_no_personal_data(
    tmp_path: Path,
) -> None:
    exporter = InMemorySpanExporter()
    provider = tracer_provider("test", [exporter], processor=SimpleSpanProcessor)
    systems = seeded_systems()
    erp = SearchingErp()
    erp.suppliers = dict(systems.erp.suppliers)
    systems.erp = erp
    queries: list[str] = []
    queue = f"trace-{uuid.uuid4()}"
    settings = Settings(environment="development", task_queue=queue, state_dir=tmp_path)
    instrument_http(provider)
    try:
        async with (
            local_erp(queries) as erp_url,
            SystemClient("erp", erp_url, token="t") as erp_client,
            await WorkflowEnvironment.start_time_skipping(
                data_converter=data_converter(settings),
                interceptors=[TracingInterceptor(provider.get_tracer("temporal"))],
                test_server_existing_path=str(binaries.test_server_path()),
            ) as env,
        ):
            erp.http = HttpErp(erp_client)
            await ensure_search_attributes(env.client, REGISTRATION)
            async with Worker(
                env.client,
                task_queue=queue,
                workflows=list(WORKFLOWS),
                activities=activity_functions(*systems.activities()),
                workflow_runner=workflow_runner(),
            ):
                harness = Harness(env=env, systems=systems, task_queue=queue)
                async with traced_api(harness, settings, provider) as api:
                    token, _ = issue_token(settings, "portal", ["suppliers:write"], ["*"])
                    response = await api.post(
                        "/v1/suppliers/onboarding", json=sole_proprietor(), headers={"Authorization": f"Bearer {token}"}
                    )
                assert response.status_code == 202, response.text
                handle = env.client.get_workflow_handle(response.json()["workflow_id"], result_type=OnboardingResult)
                assert (await handle.result()).outcome == "onboarded"
    finally:
        uninstrument_http()
        provider.shutdown()

    assert any(SSN in query or "512447781" in query for query in queries)  # the search sent it in the URL
    spans = list(exporter.get_finished_spans())
    request = one(spans, "POST /v1/suppliers/onboarding", SpanKind.SERVER)
    start = one(spans, "StartWorkflow:SupplierOnboarding")
    run = one(spans, "RunWorkflow:SupplierOnboarding")
    start_activity = one(spans, "StartActivity:find_erp_matches")
    run_activity = one(spans, "RunActivity:find_erp_matches")
    calls = [s for s in spans if s.kind == SpanKind.CLIENT and child_of(s, run_activity)]
    assert calls, [s.name for s in spans]
    trace = [request, start, run, start_activity, run_activity, calls[0]]
    assert len({span.context.trace_id for span in trace if span.context}) == 1
    # Temporal's interceptor makes RunWorkflow a marker span and parents the workflow's own calls
    # to the StartWorkflow it carries in the run's headers (a workflow span cannot stay open
    # across workflow tasks, workers and replays)
    links = [(start, request), (run, start), (start_activity, start), (run_activity, start_activity),
             (calls[0], run_activity)]  # fmt: skip
    for child, parent in links:
        assert child_of(child, parent), (child.name, parent.name)
    assert calls[0].status.status_code != StatusCode.ERROR
    assert any(str(v).endswith("/erp/suppliers?REDACTED") for v in (calls[0].attributes or {}).values())

    secrets = (SSN, SSN.replace("-", ""), ACCOUNT, ROUTING, PERSON, "Whitfield", "Dana")
    for span in spans:
        values = [span.name, span.status.description or ""]
        values += [str(v) for v in (span.attributes or {}).values()]
        values += [str(v) for event in span.events for v in (event.attributes or {}).values()]
        for value in values:
            for secret in secrets:
                assert secret.lower() not in value.lower(), (span.name, value)
