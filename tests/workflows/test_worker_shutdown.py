"""On SIGTERM the worker stops within its graceful timeout (plus a few seconds), even while an
activity hangs on a system that accepts the connection and never answers."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from domain.onboarding import OnboardSupplierInput
from runtime import binaries
from runtime.namespace import ensure_search_attributes
from runtime.settings import Settings
from runtime.temporal_client import data_converter
from tests.examples import supplier_request
from worker import SHUTDOWN_MARGIN_SECONDS, run_worker
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.search_attributes import REGISTRATION


@pytest.fixture
async def silent_system() -> AsyncIterator[tuple[str, asyncio.Event]]:
    """A TCP server on 127.0.0.1 that takes every connection and never answers."""
    reached = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        reached.set()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}", reached
    finally:
        for writer in held:
            writer.close()
        server.close()


async def test_the_worker_stops_within_its_graceful_timeout_while_an_activity_hangs(
    tmp_path: Path, silent_system: tuple[str, asyncio.Event]
) -> None:
    url, reached = silent_system
    settings = Settings(
        environment="development",
        state_dir=tmp_path,
        task_queue=f"shutdown-{uuid.uuid4()}",
        sandbox_url=url,
        http_timeout_seconds=120,  # the call would hang for two minutes
        worker_graceful_shutdown_seconds=1,
    )
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(settings), test_server_existing_path=str(binaries.test_server_path())
    ) as env:
        await ensure_search_attributes(env.client, REGISTRATION)
        stop = asyncio.Event()
        running = asyncio.create_task(run_worker(settings, env.client, stop))
        await env.client.start_workflow(
            SupplierOnboardingWorkflow.run,
            OnboardSupplierInput(request=supplier_request("new-supplier")),
            id=f"shutdown-{uuid.uuid4()}",
            task_queue=settings.task_queue,
        )
        await asyncio.wait_for(reached.wait(), timeout=60)  # an activity is now stuck in its call
        stop.set()  # what SIGTERM does (runtime/signals.py)
        began = time.monotonic()
        await asyncio.wait_for(running, timeout=60)
        waited = time.monotonic() - began
    assert waited < settings.worker_graceful_shutdown_seconds + SHUTDOWN_MARGIN_SECONDS + 5
