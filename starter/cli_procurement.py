"""`supplybridge po ...` and `supplybridge invoice ...` (mounted by starter/cli.py).

`po submit` and `invoice submit` wait (by default, up to --timeout seconds) until the run
settles: it completed, or it waits for someone else (an approval, the vendor's acknowledgement,
receipts, an exception resolution). `po receive` and `po cancel` take the PO number (or the PO's
workflow id) and print the PO's run as every run command does. Exit codes as everywhere; a
rejected PO or a duplicate invoice exits 3.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from domain.po_models import CancelRequest, ReceiptRequest
from domain.purchasing import Invoice, PurchaseOrder, purchase_order_workflow_id
from runtime.temporal_client import connect
from starter import operations as ops
from starter.cli_common import (
    USER,
    WAIT_SECONDS,
    ByOpt,
    JsonOpt,
    TimeoutOpt,
    WaitOpt,
    command_group,
    finish,
    read_model,
    run_async,
    settings_from,
)
from starter.output import ExitCode, field_errors, print_error, print_view

M = TypeVar("M", bound=BaseModel)

po_app = command_group("Purchase orders: submit, receive, cancel.")
invoice_app = command_group("Supplier invoices: submit for three-way match.")
PoRefArg = Annotated[str, typer.Argument(metavar="PO", help="The PO number (PO-2026-000451) or its workflow id.")]


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
            print_view(done.view, as_json, ok=False)
            return ExitCode.BAD_INPUT
        return finish(await ops.settle(client, settings, handle.id, wait=wait, timeout=timeout), as_json)

    return run_async(main, as_json)


@po_app.command("submit")
def po_submit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Purchase order (JSON, as examples/purchase-orders/).")],
    wait: WaitOpt = True,
    timeout: TimeoutOpt = WAIT_SECONDS,
    by: ByOpt = USER,
    as_json: JsonOpt = False,
) -> int:
    """Submit a PO (workflow `purchase-order-<po number>`; submitting it again while it runs joins it)."""
    return submit(ctx, file, PurchaseOrder, "purchase order", ops.start_purchase_order, wait, timeout, by, as_json)


@po_app.command("receive")
def po_receive(
    ctx: typer.Context,
    po: PoRefArg,
    line: Annotated[int, typer.Option("--line", help="PO line number.")],
    quantity: Annotated[str, typer.Option("--quantity", help="Quantity received (decimal).")],
    uom: Annotated[str | None, typer.Option("--uom", help="Unit received in (default: the line's unit).")] = None,
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
        client = await connect(settings)
        workflow_id, po_number = await _purchase_order(client, po)
        status = await ops.record_receipt(client, po_number, request)
        view = await ops.describe_run(client, settings, workflow_id)
        if view.status == "running":  # the Update's own answer: the PO right after this receipt
            view.with_answer(status)
            view.stage = status.stage.value
        return finish(view, as_json)

    return run_async(main, as_json)


@po_app.command("cancel")
def po_cancel(
    ctx: typer.Context,
    po: PoRefArg,
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
        workflow_id, po_number = await _purchase_order(client, po)
        await ops.cancel_purchase_order(client, po_number, request)
        return finish(await ops.describe_run(client, settings, workflow_id), as_json)

    return run_async(main, as_json)


async def _purchase_order(client: Client, ref: str) -> tuple[str, str]:
    """(workflow id, PO number) of the PO `ref` names; `UnknownRun` if it names no PO's run."""
    workflow_id = await ops.resolve_run_id(client, ref)
    prefix = purchase_order_workflow_id("")
    if not workflow_id.startswith(prefix):
        raise ops.UnknownRun(f"{ref!r} is not a purchase order: it names the run {workflow_id}")
    return workflow_id, workflow_id.removeprefix(prefix)


@invoice_app.command("submit")
def invoice_submit(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Invoice (JSON, as examples/invoices/).")],
    wait: WaitOpt = True,
    timeout: TimeoutOpt = WAIT_SECONDS,
    by: ByOpt = USER,
    as_json: JsonOpt = False,
) -> int:
    """Submit a supplier invoice (workflow `invoice-<supplier>-<invoice number>`)."""
    return submit(ctx, file, Invoice, "invoice", ops.start_invoice, wait, timeout, by, as_json)
