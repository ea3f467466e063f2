"""How the CLI answers: one JSON object with `--json`, short plain lines otherwise, and exit
codes that mean something.

Every JSON object carries `ok`: true when the command did what was asked (exit 0), false
otherwise, with `error` (and `errors`: [{field, reason}] for bad input). `status` appears only
where a run is shown, and is always that run's Temporal status (`running`, `completed`, ...).

Exit codes: 0 done (or started, or waiting for a person); 1 the platform could not do it
(Temporal or a system unreachable, the run failed, or `--wait` timed out); 2 bad input or
usage (the error names the field); 3 the business process rejected the request.

Text output never cuts an id or a link: each value is printed whole on its line (the terminal
may wrap it, nothing is inserted or ellipsised), and links are printed on a line of their own.
"""

from __future__ import annotations

import json
from enum import IntEnum
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from starter.operations import RunView


class ExitCode(IntEnum):
    OK = 0
    PLATFORM_ERROR = 1
    BAD_INPUT = 2
    REJECTED = 3


console = Console()
err_console = Console(stderr=True)
LABEL_WIDTH = 18  # the longest label ("escalation level") and two spaces
# Fields of a run's result worth a line of their own, in this order.
RESULT_FIELDS = (
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


def print_ok(data: dict[str, Any]) -> None:
    """A command's answer that is not a run (a list, a report, a credential), with `ok: true`."""
    print_json({"ok": True, **data})


def print_line(text: str, *, style: str = "", stderr: bool = False) -> None:
    """One line of text as it is: no Rich markup read into it, never wrapped or cut by Rich."""
    (err_console if stderr else console).print(Text(text, style=style), soft_wrap=True, highlight=False)


def print_field(label: str, value: str, *, style: str = "") -> None:
    console.print(Text.assemble((f"{label:<{LABEL_WIDTH}}", "bold"), (value, style)), soft_wrap=True, highlight=False)


def print_view(view: RunView, as_json: bool, *, ok: bool = True) -> None:
    """A run: its view as one JSON object (with `ok`), or a line per field and its link last."""
    if as_json:
        print_json({"ok": ok, **view.model_dump(mode="json")})
        return
    print_field("workflow", view.workflow_id)
    print_field("status", view.status)
    print_field("stage", view.stage or "-")
    if view.outcome:
        print_field("outcome", view.outcome)
    for label, value in _result_lines(view.result or {}):
        print_field(label, value)
    if view.error:
        print_field("error", view.error, style="red")
    if view.note:
        print_field("note", view.note)
    if view.ui_url:
        print_line("Temporal UI:")
        print_line(view.ui_url)


def _result_lines(result: dict[str, Any]) -> list[tuple[str, str]]:
    lines = [(key.replace("_", " "), str(result[key])) for key in RESULT_FIELDS if result.get(key) not in (None, "", 0)]
    lines += [("reason", f"{reason['field']}: {reason['reason']}") for reason in result.get("reasons", [])]
    for line in result.get("lines", []) if "ordered" in str(result.get("lines", "")) else []:
        lines.append(
            (
                f"line {line['line']}",
                f"{line['item_id']} ordered {line['ordered']} {line['uom']}, received {line['received']}, "
                f"invoiced {line['invoiced']}" + (" (cancelled)" if line.get("cancelled") else ""),
            )
        )
    exception = result.get("open_exception")
    if exception:
        lines.append(("open exception", f"{exception['kind']} for team {exception['team']}: {exception['summary']}"))
        lines.append(("actions", ", ".join(exception["allowed_actions"])))
    lines += [(d["kind"], d["message"]) for d in ([] if exception else result.get("discrepancies", []))]
    lines += [("warning", warning) for warning in result.get("warnings", [])]
    return lines


def print_error(message: str, as_json: bool, *, code: ExitCode, **extra: Any) -> ExitCode:
    """What went wrong: `{"ok": false, "error": ..., **extra}` with `--json`, else on stderr."""
    if as_json:
        print_json({"ok": False, "error": message, **extra})
    else:
        err_console.print(Text.assemble(("error: ", "red"), message), soft_wrap=True, highlight=False)
        for item in extra.get("errors", []):
            print_line(f"  {item['field']}: {item['reason']}", stderr=True)
    return code
