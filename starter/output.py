"""How the CLI answers: one JSON object with `--json`, a short Rich rendering otherwise, and
exit codes that mean something.

Exit codes: 0 done (or started, or waiting for a person); 1 the platform could not do it
(Temporal or a system unreachable, the run failed, or `--wait` timed out); 2 bad input or
usage (the error names the field); 3 the business process rejected the request.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from starter.operations import RunView


class ExitCode(IntEnum):
    OK = 0
    PLATFORM_ERROR = 1
    BAD_INPUT = 2
    REJECTED = 3


console = Console()
err_console = Console(stderr=True)


def exit_code_for(view: RunView) -> ExitCode:
    if view.is_failure:
        return ExitCode.PLATFORM_ERROR
    if view.is_rejection:
        return ExitCode.REJECTED
    return ExitCode.OK


def field_errors(error: ValidationError) -> list[dict[str, str]]:
    """[{field, reason}] from a pydantic error, without the input values."""
    return [
        {"field": ".".join(str(p) for p in item["loc"]) or "(file)", "reason": item["msg"]} for item in error.errors()
    ]


def print_json(data: dict[str, Any]) -> None:
    print(json.dumps(data, default=str), flush=True)


def print_view(view: RunView, as_json: bool) -> None:
    if as_json:
        print_json(view.model_dump(mode="json"))
        return
    table = Table(show_header=False, box=None)
    table.add_row("workflow", view.workflow_id)
    table.add_row("status", view.status)
    table.add_row("stage", view.stage or "-")
    if view.outcome:
        table.add_row("outcome", view.outcome)
    result = view.result or {}
    keys = (
        "rejection_kind",
        "erp_supplier_id",
        "assigned_team",
        "escalation_level",
        "erp_status",
        "cancel_reason",
        "approved_amount",
        "duplicate_of",
        "hold_reason",
    )
    for key in keys:
        if result.get(key) not in (None, "", 0):
            table.add_row(key.replace("_", " "), str(result[key]))
    for reason in result.get("reasons", []):
        table.add_row("reason", f"{reason['field']}: {reason['reason']}")
    for line in result.get("lines", []) if "ordered" in str(result.get("lines", "")) else []:
        table.add_row(
            f"line {line['line']}",
            f"{line['item_id']} ordered {line['ordered']} {line['uom']}, received {line['received']}, "
            f"invoiced {line['invoiced']}" + (" (cancelled)" if line.get("cancelled") else ""),
        )
    exception = result.get("open_exception")
    if exception:
        table.add_row("open exception", f"{exception['kind']} for team {exception['team']}: {exception['summary']}")
        table.add_row("actions", ", ".join(exception["allowed_actions"]))
    for discrepancy in result.get("discrepancies", []) if not exception else []:
        table.add_row(discrepancy["kind"], discrepancy["message"])
    for warning in result.get("warnings", []):
        table.add_row("warning", warning)
    if view.error:
        table.add_row("error", f"[red]{view.error}[/red]")
    if view.ui_url:
        table.add_row("Temporal UI", view.ui_url)
    console.print(table)


def print_error(message: str, as_json: bool, *, code: ExitCode, **extra: Any) -> ExitCode:
    if as_json:
        print_json({"status": "error", "error": message, **extra})
    else:
        err_console.print(f"[red]error:[/red] {message}")
        for item in extra.get("errors", []):
            err_console.print(f"  {item['field']}: {item['reason']}")
    return code
