"""`supplybridge onboard` and `supplybridge status` (registered on the root app by starter/cli.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from domain.supplier import SupplierOnboardingRequest
from runtime.temporal_client import connect
from starter import operations as ops
from starter.cli_common import (
    WAIT_SECONDS,
    JsonOpt,
    RunRefArg,
    TimeoutOpt,
    WaitOpt,
    finish,
    read_model,
    run_async,
    settings_from,
)
from starter.output import ExitCode, print_view


def onboard(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Supplier onboarding request (JSON, as the vendor system sends it).")],
    wait: WaitOpt = True,
    timeout: TimeoutOpt = WAIT_SECONDS,
    as_json: JsonOpt = False,
) -> int:
    """Onboard a supplier (workflow id `supplier-onboarding-<vendor id>`; starting twice joins the running one)."""
    settings = settings_from(ctx)
    request = read_model(file, SupplierOnboardingRequest, "supplier onboarding request", as_json)
    if isinstance(request, ExitCode):
        return request

    async def main() -> int:
        client = await connect(settings)
        handle = await ops.start_onboarding(client, settings, request)
        if not wait:
            return finish(ops.started_view(settings, handle.id, handle.result_run_id), as_json)
        return finish(await ops.settle(client, settings, handle.id, wait=True, timeout=timeout), as_json)

    return run_async(main, as_json)


def status(
    ctx: typer.Context,
    run: RunRefArg,
    as_json: JsonOpt = False,
) -> int:
    """Show a run's status, stage and result (exit 0 whenever the run exists)."""
    settings = settings_from(ctx)

    async def main() -> int:
        client = await connect(settings)
        print_view(await ops.describe_run(client, settings, await ops.resolve_run_id(client, run)), as_json)
        return ExitCode.OK

    return run_async(main, as_json)
