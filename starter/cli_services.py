"""The long-running commands (`up`, `worker`, `sandbox`, `api`) and the read-outs (`events`,
`demo`), registered on the root app by starter/cli.py. Heavy imports (the stack, the worker,
the sandbox) happen inside the command that needs them, so `supplybridge status` stays quick."""

from __future__ import annotations

import asyncio
import contextlib
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from runtime.settings import Settings
from runtime.signals import stop_event_on_signals
from runtime.stack_record import StoreSource
from starter.cli_common import JsonOpt, StateDirOpt, run_async, settings_from
from starter.cli_governance import StoreDirOpt, operational_store, store_fields
from starter.output import ExitCode, console, print_json

TemporalPortOpt = Annotated[int, typer.Option(help="Temporal frontend (gRPC) port.")]
UiPortOpt = Annotated[int | None, typer.Option(help="Temporal UI port [8233].")]
SandboxPortOpt = Annotated[int | None, typer.Option(help="Sandbox systems port [8300].")]
ApiPortOpt = Annotated[int | None, typer.Option(help="API port [8000].")]
DemoStateDirOpt = Annotated[Path, typer.Option(help="Fresh state for the demo (wiped first).")]


class ErpChoice(StrEnum):
    SANDBOX = "sandbox"
    TRYTON = "tryton"


ErpOpt = Annotated[
    ErpChoice | None,
    typer.Option(
        help="The ERP: the sandbox's, or Tryton (started in the state dir unless SUPPLYBRIDGE_TRYTON_URL is set)."
    ),
]


def stack_settings(
    ctx: typer.Context,
    state_dir: Path | None,
    temporal_port: int,
    ui_port: int | None,
    sandbox_port: int | None,
    api_port: int | None,
    erp: ErpChoice | None = None,
) -> Settings:
    """Settings of an embedded stack (`up`, `demo`): everything on 127.0.0.1."""
    return settings_from(
        ctx,
        state_dir=state_dir,
        temporal_address=f"127.0.0.1:{temporal_port}",
        temporal_ui_port=ui_port,
        sandbox_port=sandbox_port,
        api_port=api_port,
        erp=erp.value if erp else None,
    )


def up(
    ctx: typer.Context,
    state_dir: StateDirOpt = None,
    temporal_port: TemporalPortOpt = 7233,
    ui_port: UiPortOpt = None,
    sandbox_port: SandboxPortOpt = None,
    api_port: ApiPortOpt = None,
    reset_sandbox: Annotated[bool, typer.Option(help="Reseed the sandbox systems from the seed files.")] = False,
    erp: ErpOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Start the embedded stack: Temporal dev server + UI, sandbox systems, API and worker (and Tryton
    with --erp tryton). Ctrl-C stops it."""
    from starter.stack import EmbeddedStack

    settings = stack_settings(ctx, state_dir, temporal_port, ui_port, sandbox_port, api_port, erp)

    async def main() -> int:
        stop = stop_event_on_signals()
        async with EmbeddedStack(settings, reset_sandbox=reset_sandbox) as stack:
            e = stack.endpoints
            _announce(
                as_json,
                f"SupplyBridge ready: Temporal {e.temporal} (UI {e.ui}), sandbox {e.sandbox}, "
                f"API {e.api}, ERP {e.erp}, worker on task queue '{e.task_queue}', state in {e.state_dir}",
                **e.__dict__,
            )
            worker = asyncio.create_task(stack.wait_for_worker())
            stopper = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({worker, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if worker in done and worker.exception():
                raise worker.exception()  # type: ignore[misc]
        return ExitCode.OK

    return run_async(main, as_json)


def worker(ctx: typer.Context, state_dir: StateDirOpt = None, as_json: JsonOpt = False) -> int:
    """Run a worker against the configured Temporal (SUPPLYBRIDGE_* settings)."""
    from runtime.metrics_server import serving_metrics
    from runtime.telemetry import configure_telemetry
    from runtime.temporal_client import connect
    from worker import run_worker

    settings = settings_from(ctx, state_dir=state_dir)

    async def main() -> int:
        configure_telemetry(settings, "supplybridge-worker")
        stop = stop_event_on_signals()
        client = await connect(settings)
        if settings.schedules_enabled:  # the scheduled syncs exist wherever a worker runs them
            from starter.operations.schedules import ensure_schedules

            await ensure_schedules(client, settings)
        async with serving_metrics(settings) as metrics_url:
            _announce(
                as_json,
                f"worker polling task queue '{settings.task_queue}' on {settings.temporal_address}"
                + (f", metrics on {metrics_url}" if metrics_url else ""),
                task_queue=settings.task_queue,
                temporal=settings.temporal_address,
                metrics=metrics_url,
            )
            await run_worker(settings, client, stop)
        return ExitCode.OK

    return run_async(main, as_json)


def sandbox(
    ctx: typer.Context,
    state_dir: StateDirOpt = None,
    port: Annotated[int | None, typer.Option(help="Port [8300].")] = None,
    reset: Annotated[bool, typer.Option(help="Reseed from the seed files.")] = False,
    synthetic_suppliers: Annotated[
        int, typer.Option(min=0, max=200_000, help="Add N synthetic suppliers to every system (reseeds first).")
    ] = 0,
    drift_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of synthetic suppliers that drift.")
    ] = 0.05,
    seed: Annotated[int, typer.Option(help="Random seed of the synthetic data (same seed, same data).")] = 7,
    as_json: JsonOpt = False,
) -> int:
    """Serve the sandbox external systems on one port, each under its prefix: /erp (suppliers, POs,
    receipts, vouchers), /vendor-management (registrations, credentials, status webhooks),
    /contracts, /screening (OIG LEIE exclusions, TIN match), /inventory (balances,
    reservations, consumption, stock-breach webhooks), /vendor-channel (PO notifications,
    acknowledgement webhooks), /ap (AP automation: invoices, payment approvals, disputes),
    /analytics (golden supplier and item dimensions), and /admin/faults (fault injection)."""
    from sandbox.server import create_app
    from sandbox.synthetic import SyntheticSpec
    from starter.stack import sandbox_config

    settings = settings_from(ctx, state_dir=state_dir, sandbox_port=port)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    config = sandbox_config(settings, reset=reset or synthetic_suppliers > 0)
    if synthetic_suppliers:
        config.synthetic = SyntheticSpec(suppliers=synthetic_suppliers, drift_rate=drift_rate, seed=seed)
    app = create_app(config)
    return _serve_until_stopped(app, settings, settings.sandbox_port, "sandbox", as_json)


def api(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option(help="Port [8000].")] = None,
    as_json: JsonOpt = False,
) -> int:
    """Serve the platform API."""
    from runtime.telemetry import configure_telemetry
    from starter.api.app import create_app

    settings = settings_from(ctx, api_port=port)
    configure_telemetry(settings, "supplybridge-api")
    return _serve_until_stopped(create_app(settings), settings, settings.api_port, "API", as_json)


def events(
    ctx: typer.Context,
    state_dir: StoreDirOpt = None,
    type_: Annotated[str | None, typer.Option("--type", help="e.g. supplier.onboarded")] = None,
    subject: Annotated[str | None, typer.Option(help="e.g. VM-200417")] = None,
    limit: int = 50,
    as_json: JsonOpt = False,
) -> int:
    """List the business events the running stack published (newest first), or those in the
    store named by --state-dir or SUPPLYBRIDGE_STORE_URL."""
    from store import Store

    source = operational_store(settings_from(ctx, state_dir=state_dir), as_json)
    if not isinstance(source, StoreSource):
        return source
    store = Store(source.url)
    try:
        found = store.list_events(type=type_, subject=subject, limit=limit)
    finally:
        store.close()
    if as_json:
        events = [e.model_dump(mode="json") for e in found]
        print_json({"ok": True, **store_fields(source), "events": events})
    else:
        for e in found:
            console.print(
                f"{e.occurred_at:%Y-%m-%d %H:%M:%S} {e.type:32} {e.subject:14} {e.workflow_id or ''}",
                soft_wrap=True,
                markup=False,
            )
    return ExitCode.OK


def demo(
    ctx: typer.Context,
    state_dir: DemoStateDirOpt = Path(".supplybridge/demo"),
    keep_running: Annotated[bool, typer.Option(help="Keep the stack up afterwards to browse the runs.")] = False,
    temporal_port: TemporalPortOpt = 7233,
    ui_port: UiPortOpt = None,
    sandbox_port: SandboxPortOpt = None,
    api_port: ApiPortOpt = None,
    erp: ErpOpt = None,
    as_json: JsonOpt = False,
) -> int:
    """Start the embedded stack, run the example scenarios, print each outcome and its Temporal UI link.
    With --erp tryton: the supplier and PO scenarios against Tryton, with Tryton's record ids."""
    from starter.demo import run_demo

    settings = stack_settings(ctx, state_dir, temporal_port, ui_port, sandbox_port, api_port, erp)
    return run_async(lambda: run_demo(settings, keep_running=keep_running, as_json=as_json), as_json)


COMMANDS = (up, worker, sandbox, api, events, demo)


def _announce(as_json: bool, text: str, **fields: Any) -> None:
    if as_json:
        print_json({"ok": True, "ready": True, **fields})
    else:
        console.print(text, soft_wrap=True)


def _serve_until_stopped(asgi_app: Any, settings: Settings, port: int, name: str, as_json: bool) -> int:
    from runtime.http_server import embedded_server, wait_until_healthy

    async def main() -> int:
        stop = stop_event_on_signals()
        server = embedded_server(asgi_app, settings.host, port)
        task = asyncio.create_task(server.serve())
        url = f"http://{settings.host}:{port}"
        await wait_until_healthy(f"http://127.0.0.1:{port}/health", server_task=task)
        _announce(as_json, f"{name} listening on {url}", service=name.lower(), url=url)
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        stopper.cancel()
        return ExitCode.OK

    return run_async(main, as_json)
