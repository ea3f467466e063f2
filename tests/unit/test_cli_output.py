"""What the CLI prints: one meaning of `status` (a run's Temporal status, only where a run is
shown), `ok` for the command's own success, and text that never cuts an id or a link at 80
columns nor reads Rich markup into values."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from runtime.settings import Settings
from starter import output
from starter.operations import RunView, runs
from starter.operations.processes import run_id_candidates

LONG_ID = "invoice-SUP-0002-NSS-889121-with-a-rather-long-invoice-number-000000000000042"
LONG_URL = f"http://127.0.0.1:8233/namespaces/default/workflows/{LONG_ID}/0b5cbf5e-6f43-4a51-9b3e-1f0c1d2e3f4a/history"


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The CLI's consoles, 80 columns wide, writing here."""
    text = io.StringIO()
    monkeypatch.setattr(output, "console", Console(file=text, width=80))
    monkeypatch.setattr(output, "err_console", Console(file=text, width=80))
    return text


def view(**changes: object) -> RunView:
    fields = {"workflow_id": LONG_ID, "workflow_type": "Invoice", "status": "running", "stage": "awaiting_resolution"}
    return RunView.model_validate({**fields, "ui_url": LONG_URL, **changes})


def test_ids_and_links_are_printed_whole_at_80_columns(screen: io.StringIO) -> None:
    output.print_view(view(error="[red]x[/red] held for [the line's unit]"), as_json=False)
    lines = screen.getvalue().splitlines()
    assert LONG_URL in lines  # a line of its own, whole
    assert any(line.endswith(LONG_ID) for line in lines)
    assert not any("…" in line for line in lines)
    assert any("[red]x[/red] held for [the line's unit]" in line for line in lines)  # values are not markup


def test_an_error_is_printed_as_written(screen: io.StringIO) -> None:
    output.print_error(f"[bold]{LONG_ID}[/bold] is completed", as_json=False, code=output.ExitCode.BAD_INPUT)
    assert f"error: [bold]{LONG_ID}[/bold] is completed" in screen.getvalue().replace("\n", "")
    assert screen.getvalue().count("\n") == 1


def test_json_has_ok_and_status_only_for_a_run(capsys: pytest.CaptureFixture[str]) -> None:
    output.print_view(view(), as_json=True, ok=True)
    shown = json.loads(capsys.readouterr().out)
    assert shown["ok"] is True and shown["status"] == "running"
    assert set(shown) == {
        "ok",
        "workflow_id",
        "workflow_type",
        "status",
        "stage",
        "outcome",
        "result",
        "error",
        "note",
        "ui_url",
    }

    code = output.print_error("bad", True, code=output.ExitCode.BAD_INPUT, errors=[{"field": "f", "reason": "r"}])
    assert code == 2
    assert json.loads(capsys.readouterr().out) == {
        "ok": False,
        "error": "bad",
        "errors": [{"field": "f", "reason": "r"}],
    }

    output.print_ok({"exceptions": []})
    assert json.loads(capsys.readouterr().out) == {"ok": True, "exceptions": []}


@pytest.mark.parametrize(
    ("ref", "first"),
    [
        ("PO-2026-000451", "purchase-order-PO-2026-000451"),
        ("purchase-order-PO-2026-000451", "purchase-order-PO-2026-000451"),
        ("SUP-0002-NSS-889121", "purchase-order-SUP-0002-NSS-889121"),
        ("SUP-0002/NSS 889121", "invoice-SUP-0002-NSS_889121"),
        ("VM-200421", "purchase-order-VM-200421"),
    ],
)
def test_a_run_may_be_named_by_its_business_key(ref: str, first: str) -> None:
    candidates = run_id_candidates(ref)
    assert candidates[0] == first
    if not ref.startswith("purchase-order-") and "/" not in ref:
        assert f"invoice-{ref}" in candidates and f"supplier-onboarding-{ref}" in candidates and ref in candidates


async def test_a_wait_that_ran_out_says_what_it_waited_for_never_none(monkeypatch: pytest.MonkeyPatch) -> None:
    async def still_starting(*_: object) -> RunView:
        return RunView(workflow_id="supplier-onboarding-VM-1", status="running", stage=None)

    monkeypatch.setattr(runs, "wait_until_settled", still_starting)
    view = await runs.settle(None, Settings(), "supplier-onboarding-VM-1", wait=True, timeout=15)  # type: ignore[arg-type]
    assert (
        view.error
        == "still running before its first stage (is a worker running?) after 15 s (it carries on: look again later)"
    )
    assert "None" not in view.error
