"""`supplybridge po ...` and `supplybridge invoice ...` (mounted by starter/cli.py).

`po submit` and `invoice submit` wait (by default, up to --timeout seconds) until the run
settles: it completed, or it waits for someone else (an approval, the vendor's acknowledgement,
receipts, an exception resolution). Exit codes as everywhere (starter/output.py); a rejected PO
or a duplicate invoice exits 3.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from domain.po_models import CancelRequest, PoStatus, ReceiptRequest
from domain.purchasing import Invoice, PurchaseOrder, purchase_order_workflow_id
from runtime.settings import Settings
from runtime.temporal_client import connect
from starter import operations as ops
from starter.cli_common import (
    USER,
    ByOpt,
    JsonOpt,
    TimeoutOpt,
    WaitOpt,
    finish,
    read_model,
    run_async,
    settings_from,
)
from starter.output import ExitCode, console, field_errors, print_error, print_json, print_view

M = TypeVar("M", bound=BaseModel)

po_app = typer.Typer(help="Purchase orders: submit, receive, cancel.", no_args_is_help=True)
invoice_app = typer.Typer(help="Supplier invoices: submit for three-way match.", no_args_is_help=True)


def submit(
    ctx: typer.Context,
    file: Path,
    model: type[M],
    label: str,
    start: Callable[..., Awaitable[Any]],
    wait: bool,
    timeout: float,
    by: str,
    as_json: bool,
) -> int:
    """Read the document, start (or join) its workflow, and report once it settles."""
    settings = settings_from(ctx)
    document = read_model(file, model, label, as_json)
    if isinstance(document, ExitCode):
        return document

    async def main() -> int:
        client = await connect(settings)
        try:
            handle = await start(client, settings, document, submitted_by=by)
        except ops.AlreadyProcessed as done:
            done.view.error = str(done)
            print_view(done.view, as_json)
            return ExitCode.BAD_INPUT
        return finish(await ops.settle(client, settings, handle.id, wait=wait, timeout=timeout), as_json)

    return run_async(main, as_json)


@po_app.command("submit")
def po_submit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Purchase order (JSON, as examples/purchase-orders/).")],
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 60.0,
    by: ByOpt = USER,
    as_json: JsonOpt = False,
) -> int:
    """Submit a PO (workflow `purchase-order-<po number>`; submitting it again while it runs joins it)."""
    return submit(ctx, file, PurchaseOrder, "purchase order", ops.start_purchase_order, wait, timeout, by, as_json)


@po_app.command("receive")
def po_receive(
    ctx: typer.Context,
    po_number: Annotated[str, typer.Argument(help="e.g. PO-2026-000451")],
    line: Annotated[int, typer.Option("--line", help="PO line number.")],
    quantity: Annotated[str, typer.Option("--quantity", help="Quantity received (decimal).")],
    uom: Annotated[str | None, typer.Option("--uom", help="Unit received in [the line's unit].")] = None,
    by: ByOpt = "receiving",
    as_json: JsonOpt = False,
) -> int:
    """Record goods received on one PO line (in the ERP, and on the PO's workflow)."""
    settings = settings_from(ctx)
    try:
        request = ReceiptRequest(line=line, quantity=Decimal(quantity), uom=uom, received_by=by)
    except (ValidationError, ArithmeticError, ValueError) as error:
        errors = field_errors(error) if isinstance(error, ValidationError) else [
            {"field": "quantity", "reason": "must be a decimal number"}
        ]  # fmt: skip
        return print_error("invalid receipt", as_json, code=ExitCode.BAD_INPUT, errors=errors)

    async def main() -> int:
        status = await ops.record_receipt(await connect(settings), po_number, request)
        return _print_status(status, settings, as_json)

    return run_async(main, as_json)


@po_app.command("cancel")
def po_cancel(
    ctx: typer.Context,
    po_number: Annotated[str, typer.Argument(help="e.g. PO-2026-000451")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept with the PO).")],
    by: ByOpt = USER,
    as_json: JsonOpt = False,
) -> int:
    """Cancel a PO: the reservation is released, the vendor and the ERP cancel it (not after receipts)."""
    settings = settings_from(ctx)
    try:
        request = CancelRequest(reason=reason, requested_by=by)
    except ValidationError as error:
        return print_error("invalid cancel", as_json, code=ExitCode.BAD_INPUT, errors=field_errors(error))

    async def main() -> int:
        client = await connect(settings)
        await ops.cancel_purchase_order(client, po_number, request)
        return finish(await ops.describe_run(client, settings, purchase_order_workflow_id(po_number)), as_json)

    return run_async(main, as_json)


@invoice_app.command("submit")
def invoice_submit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Invoice (JSON, as examples/invoices/).")],
    wait: WaitOpt = True,
    timeout: TimeoutOpt = 60.0,
    by: ByOpt = USER,
    as_json: JsonOpt = False,
) -> int:
    """Submit a supplier invoice (workflow `invoice-<supplier>-<invoice number>`)."""
    return submit(ctx, file, Invoice, "invoice", ops.start_invoice, wait, timeout, by, as_json)


def _print_status(status: PoStatus, settings: Settings, as_json: bool) -> int:
    if as_json:
        print_json(
            {"status": "ok", **status.model_dump(mode="json"), "ui_url": settings.workflow_url(status.workflow_id)}
        )
        return ExitCode.OK
    console.print(f"{status.po_number}: stage {status.stage.value}" + (" (on hold)" if status.on_hold else ""))
    for line in status.lines:
        console.print(
            f"  line {line.line} {line.item_id}: ordered {line.ordered} {line.uom}, "
            f"received {line.received}, invoiced {line.invoiced}"
        )
    return ExitCode.OK
