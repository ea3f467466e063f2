"""`supplybridge po ...`, `supplybridge invoice ...` and `supplybridge exceptions ...`.

`po submit` and `invoice submit` wait (by default, up to --timeout seconds) until the run
settles: it completed, or it waits for someone else (an approval, the vendor's acknowledgement,
receipts, an exception resolution). Exit codes as everywhere (starter/output.py); a rejected PO
or a duplicate invoice exits 3.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from domain.procurement import CancelRequest, ExceptionAction, ExceptionResolution, ReceiptRequest
from domain.purchasing import Invoice, PurchaseOrder, purchase_order_workflow_id
from runtime.settings import Settings
from runtime.temporal_client import connect
from starter import operations as ops
from starter.output import ExitCode, console, exit_code_for, field_errors, print_error, print_json, print_view

M = TypeVar("M", bound=BaseModel)
SettingsFactory = Callable[..., Settings]
Runner = Callable[[Callable[[], Coroutine[Any, Any, int]], bool], Any]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
WaitOpt = Annotated[bool, typer.Option(help="Wait until the run completes or waits for someone else.")]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds to wait at most.")]
ByOpt = Annotated[str, typer.Option("--by", help="Who acts (kept with the record).")]
USER = os.environ.get("USER", "cli")


def read_model(path: Path, model: type[M], label: str, as_json: bool) -> M | ExitCode:
    """The file parsed as `model`; otherwise an error naming each field and reason (exit 2)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return print_error(f"{path}: no such file", as_json, code=ExitCode.BAD_INPUT)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        return print_error(f"{path} is not valid JSON: {error}", as_json, code=ExitCode.BAD_INPUT)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = field_errors(error)
        return print_error(
            f"{path} is not a valid {label} ({len(errors)} problem(s))", as_json, code=ExitCode.BAD_INPUT, errors=errors
        )


def register(app: typer.Typer, settings_from: SettingsFactory, run_async: Runner) -> None:
    po_app = typer.Typer(help="Purchase orders: submit, receive, cancel.", no_args_is_help=True)
    invoice_app = typer.Typer(help="Supplier invoices: submit for three-way match.", no_args_is_help=True)
    exceptions_app = typer.Typer(help="Open exceptions and approvals: list and resolve.", no_args_is_help=True)
    app.add_typer(po_app, name="po")
    app.add_typer(invoice_app, name="invoice")
    app.add_typer(exceptions_app, name="exceptions")

    def run(main: Callable[[], Coroutine[Any, Any, int]], as_json: bool) -> int:
        return int(run_async(main, as_json))

    async def settle(client: Any, settings: Settings, workflow_id: str, wait: bool, timeout: float) -> ops.RunView:
        if not wait:
            return await ops.describe_run(client, settings, workflow_id)
        view = await ops.wait_until_settled(client, settings, workflow_id, timeout)
        if view.status == "running" and view.stage not in ops.SETTLED_STAGES:
            view.error = f"still {view.stage} after {timeout:.0f}s"
        return view

    def finish(view: ops.RunView, as_json: bool) -> int:
        print_view(view, as_json)
        if view.error and view.status == "running":
            return ExitCode.PLATFORM_ERROR
        return exit_code_for(view)

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
            return finish(await settle(client, settings, handle.id, wait, timeout), as_json)

        return run(main, as_json)

    @po_app.command("submit")
    def po_submit(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="Purchase order (JSON, as shared/examples/purchase-orders/).")],
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
            client = await connect(settings)
            status = await ops.record_receipt(client, po_number, request)
            return _print_status(status.model_dump(mode="json"), settings, as_json)

        return run(main, as_json)

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
            view = await ops.describe_run(client, settings, purchase_order_workflow_id(po_number))
            return finish(view, as_json)

        return run(main, as_json)

    @invoice_app.command("submit")
    def invoice_submit(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="Invoice (JSON, as shared/examples/invoices/).")],
        wait: WaitOpt = True,
        timeout: TimeoutOpt = 60.0,
        by: ByOpt = USER,
        as_json: JsonOpt = False,
    ) -> int:
        """Submit a supplier invoice (workflow `invoice-<supplier>-<invoice number>`)."""
        return submit(ctx, file, Invoice, "invoice", ops.start_invoice, wait, timeout, by, as_json)

    @exceptions_app.command("list")
    def exceptions_list(
        ctx: typer.Context,
        team: Annotated[
            str | None, typer.Option("--team", help="pricing, receiving, accounts-payable, contracting (+ managers)")
        ] = None,
        as_json: JsonOpt = False,
    ) -> int:
        """Open exceptions and approvals, oldest first, with why they were raised and their evidence."""
        settings = settings_from(ctx)

        async def main() -> int:
            found = await ops.list_exceptions(await connect(settings), team=team)
            if as_json:
                print_json({"status": "ok", "exceptions": [e.model_dump(mode="json") for e in found]})
                return ExitCode.OK
            if not found:
                console.print("no open exceptions" + (f" for team {team}" if team else ""))
            for e in found:
                console.print(
                    f"[bold]{e.exception_id}[/bold]  {e.kind.value}  team {e.team}  due {e.due_at:%Y-%m-%d %H:%M}"
                    + ("  (escalated)" if e.escalation_level else ""),
                    soft_wrap=True,
                )
                console.print(f"  {e.summary}", soft_wrap=True)
                console.print(f"  actions: {', '.join(a.value for a in e.allowed_actions)}")
            return ExitCode.OK

        return run(main, as_json)

    @exceptions_app.command("resolve")
    def exceptions_resolve(
        ctx: typer.Context,
        exception_id: Annotated[str, typer.Argument(help="The id `exceptions list` shows (the workflow id).")],
        action: Annotated[ExceptionAction, typer.Option("--action", help="What to do.")],
        reason: Annotated[str, typer.Option("--reason", help="Why (kept with the decision).")],
        by: ByOpt = USER,
        wait: WaitOpt = True,
        as_json: JsonOpt = False,
    ) -> int:
        """Resolve an open exception; the PO or invoice then continues on its own."""
        settings = settings_from(ctx)
        try:
            resolution = ExceptionResolution(action=action, reason=reason, resolved_by=by)
        except ValidationError as error:
            return print_error("invalid resolution", as_json, code=ExitCode.BAD_INPUT, errors=field_errors(error))

        async def main() -> int:
            client = await connect(settings)
            await ops.resolve_exception(client, exception_id, resolution)
            view = await settle(client, settings, exception_id, wait, 60.0)
            print_view(view, as_json)
            return ExitCode.PLATFORM_ERROR if view.is_failure else ExitCode.OK

        return run(main, as_json)


def _print_status(status: dict[str, Any], settings: Settings, as_json: bool) -> int:
    if as_json:
        print_json({"status": "ok", **status, "ui_url": settings.workflow_url(status["workflow_id"])})
        return ExitCode.OK
    console.print(f"{status['po_number']}: stage {status['stage']}" + (" (on hold)" if status.get("on_hold") else ""))
    for line in status["lines"]:
        console.print(
            f"  line {line['line']} {line['item_id']}: ordered {line['ordered']} {line['uom']}, "
            f"received {line['received']}, invoiced {line['invoiced']}"
        )
    return ExitCode.OK
