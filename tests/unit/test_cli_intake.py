"""`supplybridge intake`, `partners list|show|add` and `dead-letters list|show|replay|discard`
against a store in a state dir (as `events` reads one): arguments and exit codes (2 for bad input
naming the file or field, 1 when there is no store or the wait ran out, 3 when a file was refused
or a record dead-lettered), partner and dead-letter changes kept and audited. Temporal is not
needed: the intake operations are replaced by stand-ins that answer as they would."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from domain.intake import (
    DeadLetterStatus,
    FileKind,
    IntakeDeadLetter,
    IntakeRecord,
    IntakeResult,
    IntakeSource,
    RecordOutcome,
    ReplayResult,
)
from starter.cli import app
from starter.operations import intake as intake_operations
from starter.operations.intake import StillProcessing
from store import Store
from tests.examples import EXAMPLES

X12 = (EXAMPLES.parent / "tests" / "data" / "edi" / "810-cascadia-invoice.edi").read_bytes()


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """A state dir holding a migrated (and seeded) store."""
    Store(f"sqlite:///{tmp_path / 'state' / 'supplybridge.sqlite'}").close()
    return tmp_path / "state"


def open_store(state: Path) -> Store:
    return Store(f"sqlite:///{state / 'supplybridge.sqlite'}")


def cli(state: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, [*args, "--state-dir", str(state), "--json"], standalone_mode=False)
    assert result.exception is None, result.exception
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return int(result.return_value or 0), json.loads(lines[0])


def text(state: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, [*args, "--state-dir", str(state)], env={"COLUMNS": "100"}, standalone_mode=False)
    assert result.exception is None, result.exception
    return int(result.return_value or 0), result.output


@pytest.fixture
def no_temporal(monkeypatch: pytest.MonkeyPatch) -> None:
    async def connect(settings: Any) -> object:
        return object()

    monkeypatch.setattr("starter.cli_intake.connect", connect)
    monkeypatch.setattr("starter.cli_dead_letters.connect", connect)


def add_letter(state: Path, position: str = "ST 0001 (segment 3)", **changes: Any) -> IntakeDeadLetter:
    letter = IntakeDeadLetter(file_id="f" * 64, file_name="810.edi", kind="x12:810", position=position,
                              partner_id="CASCADIAPHARM", key="CPD-30460", reason="unknown PO PO-2026-000460",
                              raw="ST*810*0001~BIG*20261218*CPD-30460~SE*3*0001~", **changes)  # fmt: skip
    with open_store(state) as store:
        return store.intake.add_dead_letter(letter)


def audit_actions(state: Path) -> list[tuple[str, str, str | None]]:
    with open_store(state) as store:
        return [(e.actor, e.action, e.outcome) for e in store.audit.query(limit=100)]


# --- partners -------------------------------------------------------------------------------------


def test_partners_list_shows_the_seed_and_add_then_show_the_example(state: Path) -> None:
    code, out = cli(state, "partners", "list")
    assert code == 0 and [p["partner_id"] for p in out["partners"]] == ["CASCADIAPHARM"]

    code, out = cli(state, "partners", "add", str(EXAMPLES / "partners" / "lakeshoremed.json"), "--by", "ana")
    assert code == 0 and out["replaced"] is False and out["partner"]["supplier_id"] == "SUP-0001"
    code, out = cli(state, "partners", "add", str(EXAMPLES / "partners" / "lakeshoremed.json"), "--by", "ana")
    assert code == 0 and out["replaced"] is True
    code, out = cli(state, "partners", "show", "LAKESHOREMED")
    assert code == 0 and out["partner"]["transaction_sets"] == ["832", "997"]
    assert audit_actions(state) == [("ana", "trading_partner.added", "saved"),
                                    ("ana", "trading_partner.replaced", "saved")]  # fmt: skip

    code, shown = text(state, "partners", "list")
    assert code == 0 and "LAKESHOREMED" in shown and "ZZ/CASCADIAPHARM" in shown


def test_a_partner_file_that_is_bad_or_takes_another_partners_sender_is_exit_2(state: Path, tmp_path: Path) -> None:
    taken = tmp_path / "taken.json"
    taken.write_text(json.dumps({"partner_id": "OTHER", "name": "Other", "supplier_id": "SUP-0009",
                                 "isa_id": "CASCADIAPHARM", "gs_id": "OTHER"}))  # fmt: skip
    code, out = cli(state, "partners", "add", str(taken))
    assert code == 2 and out["ok"] is False
    assert out["errors"] == [{"field": "isa_id", "reason": "ZZ/CASCADIAPHARM is the sender of partner CASCADIAPHARM"}]

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"partner_id": "BAD", "name": "Bad", "supplier_id": "SUP-0009", "isa_id": "BAD",
                               "gs_id": "BAD", "functional_ack": "998", "isa_qualifier": "zz"}))  # fmt: skip
    code, out = cli(state, "partners", "add", str(bad))
    assert code == 2 and {e["field"] for e in out["errors"]} == {"functional_ack", "isa_qualifier"}
    code, out = cli(state, "partners", "add", str(tmp_path / "missing.json"))
    assert code == 2 and "no such file" in out["error"]
    code, out = cli(state, "partners", "show", "NOPE")
    assert code == 2 and "NOPE" in out["error"]
    with open_store(state) as store:
        assert [p.partner_id for p in store.intake.list_partners()] == ["CASCADIAPHARM"]
    assert audit_actions(state) == []


def test_without_a_store_the_commands_are_exit_1_saying_so(tmp_path: Path) -> None:
    code, out = cli(tmp_path / "empty", "partners", "list")
    assert code == 1 and "no store in" in out["error"]
    code, out = cli(tmp_path / "empty", "dead-letters", "list")
    assert code == 1 and "no store in" in out["error"]


# --- dead letters ---------------------------------------------------------------------------------


def test_dead_letters_are_listed_by_status_and_shown_with_their_text(state: Path) -> None:
    first, second = add_letter(state), add_letter(state, position="ST 0002 (segment 14)")
    with open_store(state) as store:
        store.intake.resolve_dead_letter(second.id or 0, DeadLetterStatus.DISCARDED, "bo", "sent twice")
    code, out = cli(state, "dead-letters", "list")
    assert code == 0 and [d["id"] for d in out["dead_letters"]] == [first.id, second.id]
    code, out = cli(state, "dead-letters", "list", "--status", "open")
    assert [d["id"] for d in out["dead_letters"]] == [first.id]
    code, out = cli(state, "dead-letters", "list", "--limit", "1", "--offset", "1")
    assert [d["id"] for d in out["dead_letters"]] == [second.id]

    code, shown = text(state, "dead-letters", "show", str(first.id))
    assert code == 0 and "unknown PO PO-2026-000460" in shown and "ST*810*0001~BIG*20261218*CPD-30460~" in shown
    code, out = cli(state, "dead-letters", "show", "999")
    assert code == 2 and out["error"] == "no dead letter 999 in that store"
    usage = CliRunner().invoke(app, ["dead-letters", "list", "--status", "opened", "--state-dir", str(state)])
    assert usage.exit_code == 2 and "did you mean 'open'?" in usage.output
    usage = CliRunner().invoke(app, ["dead-letters", "show", "seven", "--state-dir", str(state)])
    assert usage.exit_code == 2


def test_discard_closes_an_open_letter_once_with_its_reason_and_audits_it(state: Path) -> None:
    letter = add_letter(state)
    code, out = cli(state, "dead-letters", "discard", str(letter.id), "--reason", "x")
    assert code == 2 and out["errors"][0]["field"] == "--reason"

    code, out = cli(state, "dead-letters", "discard", str(letter.id), "--reason", "sent twice", "--by", "ana")
    assert code == 0 and out["dead_letter"]["status"] == "discarded"
    assert (out["dead_letter"]["resolved_by"], out["dead_letter"]["resolution"]) == ("ana", "sent twice")
    code, out = cli(state, "dead-letters", "discard", str(letter.id), "--reason", "again", "--by", "bo")
    assert code == 2 and "was discarded by ana" in out["error"]
    code, out = cli(state, "dead-letters", "discard", "999", "--reason", "gone")
    assert code == 2
    assert audit_actions(state) == [("ana", "intake.dead_letter_discarded", "discarded")]


def test_replay_runs_an_open_letter_and_says_whether_it_went_through(
    state: Path, monkeypatch: pytest.MonkeyPatch, no_temporal: None
) -> None:
    calls: list[tuple[int, str]] = []
    outcome: dict[str, Any] = {"replayed": True}

    async def replay(client: Any, settings: Any, store: Any, letter_id: int, by: str, *, wait: float) -> ReplayResult:
        calls.append((letter_id, by))
        if outcome.get("raise"):
            raise outcome["raise"]
        if outcome["replayed"]:
            record = IntakeRecord(position="ST 0001", kind="x12:810", key="CPD-30460",
                                  outcome=RecordOutcome.STARTED, workflow_id="invoice-SUP-0003-CPD-30460")  # fmt: skip
        else:
            failed = IntakeDeadLetter(file_id="f" * 64, file_name="810.edi", kind="x12:810", position="replay",
                                      reason="still unknown", raw="ST~")  # fmt: skip
            again = store.add_dead_letter(failed)
            record = IntakeRecord(position="replay", kind="x12:810", outcome=RecordOutcome.DEAD_LETTER,
                                  dead_letter_id=again.id, reason="still unknown")  # fmt: skip
        store.resolve_dead_letter(letter_id, DeadLetterStatus.REPLAYED, by, f"{record.outcome.value}")
        return ReplayResult(dead_letter_id=letter_id, record=record, replayed=outcome["replayed"])

    monkeypatch.setattr(intake_operations, "replay_dead_letter", replay)
    first, second, third = add_letter(state), add_letter(state, position="b"), add_letter(state, position="c")

    code, out = cli(state, "dead-letters", "replay", str(first.id), "--by", "ana")
    assert code == 0 and out["replayed"] is True and out["record"]["workflow_id"] == "invoice-SUP-0003-CPD-30460"
    assert out["dead_letter"]["status"] == "replayed"
    code, out = cli(state, "dead-letters", "replay", str(first.id))
    assert code == 2 and "was replayed by ana" in out["error"] and calls == [(first.id, "ana")]

    outcome["replayed"] = False
    code, out = cli(state, "dead-letters", "replay", str(second.id), "--by", "ana")
    assert code == 3 and out["ok"] is False and "failed again: still unknown" in out["error"]

    outcome["raise"] = StillProcessing(f"intake-replay-{third.id}")
    code, out = cli(state, "dead-letters", "replay", str(third.id), "--by", "ana")
    assert code == 1 and f"intake-replay-{third.id} is still running" in out["error"]
    assert [a[1:] for a in audit_actions(state)] == [("intake.dead_letter_replayed", "replayed"),
                                                     ("intake.dead_letter_replayed", "failed_again"),
                                                     ("intake.dead_letter_replayed", "running")]  # fmt: skip


# --- intake ---------------------------------------------------------------------------------------


def test_files_that_cannot_be_taken_are_exit_2_naming_each_and_nothing_is_sent(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_temporal: None
) -> None:
    sent: list[str] = []

    async def submit(*args: Any, **kw: Any) -> IntakeResult:
        sent.append(args[3])
        raise AssertionError("nothing may be sent")

    monkeypatch.setattr(intake_operations, "submit_file", submit)
    good, empty = tmp_path / "good.edi", tmp_path / "empty.edi"
    good.write_bytes(X12)
    empty.write_bytes(b"")
    code, out = cli(state, "intake", str(good), str(empty), str(tmp_path / "missing.edi"), str(tmp_path))
    assert code == 2 and out["ok"] is False and sent == []
    assert out["errors"] == [
        {"field": str(empty), "reason": "is empty"},
        {"field": str(tmp_path / "missing.edi"), "reason": "no such file"},
        {"field": str(tmp_path), "reason": "is a directory; give the path of a file"},
    ]
    monkeypatch.setenv("SUPPLYBRIDGE_INTAKE_MAX_FILE_BYTES", "1024")
    good.write_bytes(X12 * 4)
    code, out = cli(state, "intake", str(good))
    assert code == 2 and "is over 1024 bytes" in out["errors"][0]["reason"] and sent == []


def test_intake_reports_each_file_and_exits_3_for_dead_letters_and_1_for_a_file_still_running(
    state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_temporal: None
) -> None:
    received: list[tuple[str, IntakeSource, str, bytes]] = []

    async def submit(client: Any, settings: Any, store: Any, name: str, data: bytes, source: IntakeSource,
                     submitted_by: str, *, wait: float) -> IntakeResult:  # fmt: skip
        received.append((name, source, submitted_by, data))
        if name == "slow.edi":
            raise StillProcessing("intake-slow")
        outcome = RecordOutcome.DEAD_LETTER if name == "bad.edi" else RecordOutcome.STARTED
        record = IntakeRecord(position="ST 0001", kind="x12:810", key="CPD-30460", outcome=outcome,
                              dead_letter_id=7 if outcome is RecordOutcome.DEAD_LETTER else None)  # fmt: skip
        assert store.get_partner("CASCADIAPHARM") is not None  # the store the command reads
        return IntakeResult(file_id=hashlib.sha256(data).hexdigest(), name=name, kind=FileKind.X12,
                            records=[record])  # fmt: skip

    monkeypatch.setattr(intake_operations, "submit_file", submit)
    paths = {name: tmp_path / name for name in ("good.edi", "bad.edi", "slow.edi")}
    for number, path in enumerate(paths.values()):
        path.write_bytes(X12 + str(number).encode())

    code, out = cli(state, "intake", str(paths["good.edi"]), "--by", "ana")
    assert code == 0 and out["ok"] is True and out["files"][0]["dead_letters"] == 0
    assert received == [("good.edi", IntakeSource.CLI, "ana", paths["good.edi"].read_bytes())]
    code, out = cli(state, "intake", str(paths["good.edi"]), str(paths["bad.edi"]))
    assert code == 3 and out["ok"] is False and str(paths["bad.edi"]) in out["error"]
    assert [f["dead_letters"] for f in out["files"]] == [0, 1]
    code, out = cli(state, "intake", str(paths["bad.edi"]), str(paths["slow.edi"]))
    slow = out["files"][1]
    assert code == 1 and (slow["file"], slow["status"]) == (str(paths["slow.edi"]), "processing")
    assert slow["workflow_id"] == f"intake-{hashlib.sha256(paths['slow.edi'].read_bytes()).hexdigest()[:24]}"

    code, shown = text(state, "intake", str(paths["bad.edi"]))
    assert code == 3 and "dead_letter #7" in shown and "refused or with dead letters" in shown
