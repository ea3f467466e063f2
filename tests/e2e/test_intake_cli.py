"""File and X12 intake against a real `supplybridge up` (the inbox is read by a Temporal Schedule,
which the time-skipping server does not run): a PO to the X12 partner goes out as an 850 and the
partner's 997 is kept in the vendor channel; its 855 dropped in the inbox acknowledges the PO; its
856 through the CLI puts it in transit; its 810 posted to the API is matched and approved, and
the same file again is a duplicate; a file with one good and one unknown-PO invoice starts one
and dead-letters the other, which a replay brings through once the PO exists; a wrong SE count is
rejected in our 997 (read back from the vendor channel); a broken envelope goes to rejected/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.settings import DEV_SANDBOX_TOKEN, Settings
from starter.api.security import issue_token
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
EDI = ROOT / "examples" / "edi"
HEADERS = {"Authorization": f"Bearer {DEV_SANDBOX_TOKEN}"}
PO = "PO-2026-000460"


def po_stage(stack: Stack, po_number: str = PO) -> str | None:
    _, out = stack.cli("status", f"purchase-order-{po_number}")
    return out.get("stage")


def intake(stack: Stack, path: Path) -> tuple[int, dict[str, Any]]:
    """The exit code and the file's result."""
    code, out = stack.cli("intake", str(path))
    assert len(out.get("files", [])) == 1, out
    return code, dict(out["files"][0])


def messages(stack: Stack, **query: str) -> list[dict[str, Any]]:
    found = httpx.get(f"{stack.sandbox}/vendor-channel/edi/messages", params={"partner_id": "CASCADIAPHARM", **query},
                      headers=HEADERS, timeout=10)  # fmt: skip
    return list(found.json()["items"])


def edited(name: str, tmp: Path, *replacements: tuple[str, str]) -> Path:
    text = (EDI / name).read_text()
    for old, new in replacements:
        text = text.replace(old, new)
    target = tmp / name
    target.write_text(text)
    return target


def test_the_partner_po_goes_out_as_850_and_its_files_come_back_through_every_way_in(
    stack: Stack, tmp_path: Path
) -> None:
    code, out = stack.cli("po", "submit", str(ROOT / "examples" / "purchase-orders" / "po-cascadia-edi.json"))
    assert code == 0, out
    eventually(lambda: po_stage(stack) == "awaiting_acknowledgement", what="the PO waiting for its vendor")
    assert eventually(lambda: messages(stack, kind="850"), what="the 850 at the vendor channel")
    inbox = Path(stack.state) / "intake" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(EDI / "855-cascadia-accept.edi", inbox / "855-cascadia-accept.edi")
    code, out = stack.cli("schedules", "trigger", "intake-inbox")
    assert code == 0, out

    eventually(lambda: po_stage(stack) == "open", what="the 855 from the inbox acknowledging the PO")
    assert eventually(lambda: (inbox.parent / "archive" / "855-cascadia-accept.edi").exists(), what="archived")
    code, out = intake(stack, EDI / "856-cascadia-asn.edi")
    assert code == 0, out
    eventually(lambda: po_stage(stack) == "in_transit", what="the PO in transit")
    for line, quantity in (("1", "30"), ("2", "2")):
        code, out = stack.cli("po", "receive", PO, "--line", line, "--quantity", quantity)
        assert code == 0, out

    token, _ = issue_token(Settings(environment="development"), "ap-bot", ["intake:write"], [])
    body = (EDI / "810-cascadia-invoice.edi").read_bytes()
    headers = {"Authorization": f"Bearer {token}", "X-File-Name": "810-cascadia-invoice.edi",
               "Content-Type": "application/edi-x12"}  # fmt: skip
    answer = httpx.post(f"{stack.api}/v1/intake/files", content=body, headers=headers, timeout=90)
    assert answer.status_code == 200, answer.text
    (record,) = answer.json()["records"]
    assert record["outcome"] == "started"
    eventually(lambda: stack.cli("status", record["workflow_id"])[1].get("outcome") == "approved",
               what="the invoice approved", timeout=30)  # fmt: skip
    again = httpx.post(f"{stack.api}/v1/intake/files", content=body, headers=headers, timeout=90)
    assert again.json()["duplicate_of"] and again.json()["records"] == []
    ours = messages(stack, kind="997", direction="to_partner")
    assert len(ours) >= 3


def test_an_unknown_po_is_a_dead_letter_a_replay_brings_through_and_a_bad_count_is_rejected_in_our_997(
    stack: Stack, tmp_path: Path
) -> None:
    early = edited("810-cascadia-invoice.edi", tmp_path, ("000004103", "000004303"), ("*4103*", "*4303*"),
                   ("PO-2026-000460", "PO-2026-000470"), ("CPD-30460", "CPD-30470"))  # fmt: skip
    code, out = intake(stack, early)
    assert code == 3, out
    (record,) = out["records"]
    assert record["outcome"] == "dead_letter" and "PO-2026-000470" in record["reason"]
    code, listed = stack.cli("dead-letters", "list", "--status", "open")
    assert code == 0 and record["dead_letter_id"] in [d["id"] for d in listed["dead_letters"]], listed

    po = (ROOT / "examples" / "purchase-orders" / "po-cascadia-edi.json").read_text().replace(PO, "PO-2026-000470")
    (tmp_path / "po-470.json").write_text(po)
    code, out = stack.cli("po", "submit", str(tmp_path / "po-470.json"))
    assert code == 0, out
    code, out = stack.cli("dead-letters", "replay", str(record["dead_letter_id"]))
    assert code == 0 and out["record"]["outcome"] == "started", out
    code, out = stack.cli("dead-letters", "replay", str(record["dead_letter_id"]))
    assert code != 0, out

    wrong = edited("855-cascadia-accept.edi", tmp_path, ("000004101", "000004301"), ("*4101*", "*4301*"),
                   ("SE*9*0001", "SE*12*0001"))  # fmt: skip
    code, out = intake(stack, wrong)
    assert code == 3 and out["records"][0]["outcome"] == "dead_letter", out
    answered = eventually(lambda: [m for m in messages(stack, kind="997", direction="to_partner")
                                   if m["control_number"]], what="our 997s")  # fmt: skip
    texts = [httpx.get(f"{stack.sandbox}/vendor-channel/edi/messages/{m['message_id']}", headers=HEADERS).json()["text"]
             for m in answered]  # fmt: skip
    assert any(re.search(r"AK1\*PR\*4301.*AK5\*R\*4", text, re.S) for text in texts)


def test_a_broken_envelope_in_the_inbox_is_refused_with_its_reason(stack: Stack) -> None:
    inbox = Path(stack.state) / "intake" / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    shutil.copy(EDI / "bad-envelope.edi", inbox / "bad-envelope.edi")
    code, out = stack.cli("schedules", "trigger", "intake-inbox")
    assert code == 0, out

    reason = inbox.parent / "rejected" / "bad-envelope.edi.reason.json"
    assert eventually(reason.exists, what="the file in rejected/ with its reason")
    assert "001" in reason.read_text()
