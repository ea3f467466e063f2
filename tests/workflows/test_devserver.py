"""The dev-server launcher: starts on free ports with our search attributes, keeps history in its
SQLite file across restarts, and leaves no process behind."""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.worker import Worker

from runtime.devserver import DevServer
from runtime.ports import free_port, port_is_free
from runtime.settings import Settings
from runtime.temporal_client import connect
from tests.workflows.trivial import Echo
from workflows.search_attributes import REGISTRATION


async def test_start_register_persist_and_stop(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    settings = Settings(temporal_address=f"127.0.0.1:{port}")
    server = DevServer(state_dir=tmp_path, port=port, ui_port=ui_port, search_attributes=dict(REGISTRATION))
    workflow_id = f"echo-{uuid.uuid4()}"
    async with server:
        client = await connect(settings)
        listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace="default"))
        assert set(REGISTRATION) <= set(listed.custom_attributes)
        async with Worker(client, task_queue="q", workflows=[Echo]):
            assert await client.execute_workflow(Echo.run, "hi", id=workflow_id, task_queue="q") == "hi"
    assert port_is_free(port)

    async with DevServer(state_dir=tmp_path, port=port, ui_port=ui_port) as again:
        client = await Client.connect(again.target)
        assert (await client.get_workflow_handle(workflow_id).describe()).workflow_type == "Echo"
    assert (tmp_path / "temporal.sqlite").exists()
