"""`supplybridge edi inspect`: what the reader sees in X12 files, as one JSON object or a line per
file, interchange and transaction set; exit 0 for files read (broken or not, `valid` tells), 2 for
a file that cannot be read, 3 with --strict for a file that is not valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from starter.cli import app
from tests.unit.test_x12_reader import BROKEN, OURS, THIRD_PARTY, TRANSACTION_SETS


def inspect_json(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["edi", "inspect", *args, "--json"], standalone_mode=False)
    assert result.exception is None, result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return int(result.return_value or 0), json.loads(lines[0])


def inspect_text(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["edi", "inspect", *args], env={"COLUMNS": "80"}, standalone_mode=False)
    assert result.exception is None, result.exception
    return int(result.return_value or 0), result.output.splitlines()


def test_a_broken_envelope_is_reported_not_failed() -> None:
    code, out = inspect_json(str(OURS / "810-cascadia-invoice.edi"), str(OURS / "bad-envelope.edi"))
    assert code == 0 and out["ok"] is True and out["valid"] is False
    good, bad = out["files"]
    assert good["valid"] is True and good["errors"] == []
    [interchange] = good["interchanges"]
    assert interchange["sender"] == {"qualifier": "ZZ", "id": "CASCADIAPHARM"}
    assert (interchange["version"], interchange["control_number"]) == ("00401", "000004103")
    assert interchange["delimiters"] == {"element": "*", "component": ">", "repetition": None, "segment": "~"}
    [group] = interchange["groups"]
    assert (group["functional_id"], group["control_number"], group["version"]) == ("IN", "4103", "004010")
    assert [(t["code"], t["control_number"], t["segments"]) for t in group["transactions"]] == [("810", "0001", 10)]
    assert bad["valid"] is False
    [error] = bad["errors"]
    assert error["level"] == "interchange" and error["code"] == "001" and error["position"] == 10
    assert error["tag"] == "IEA" and error["interchange"] == "000004104" and "Do Not Match" in error["message"]
    assert bad["interchanges"][0]["errors"] == [error]


def test_every_real_file_is_reported_and_exactly_the_broken_ones_are_not_valid() -> None:
    names = sorted(TRANSACTION_SETS)
    code, out = inspect_json(*(str(THIRD_PARTY / name) for name in names))
    assert code == 0 and out["ok"] is True
    for name, report in zip(names, out["files"], strict=True):
        assert report["valid"] is (name not in BROKEN), name
        sets = [
            f"{t['code']}:{t['segments']}"
            for i in report["interchanges"]
            for g in i["groups"]
            for t in g["transactions"]
        ]
        assert sets == TRANSACTION_SETS[name] and report["transaction_sets"] == len(sets)
        assert {(e["level"], e["code"]) for e in report["errors"]} == BROKEN.get(name, set())
        assert all(e["position"] is not None and e["message"] for e in report["errors"])


def test_strict_makes_a_broken_file_exit_3() -> None:
    code, out = inspect_json("--strict", str(OURS / "bad-envelope.edi"))
    assert code == 3 and out["ok"] is False and "not valid" in out["error"] and out["files"][0]["valid"] is False
    code, out = inspect_json("--strict", str(OURS / "855-cascadia-accept.edi"))
    assert code == 0 and out["ok"] is True and out["valid"] is True


def test_a_file_that_cannot_be_read_is_exit_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing.edi"
    code, out = inspect_json(str(missing), str(tmp_path), str(OURS / "855-cascadia-accept.edi"))
    assert code == 2 and out["ok"] is False
    assert out["errors"] == [
        {"field": str(missing), "reason": "no such file"},
        {"field": str(tmp_path), "reason": "is a directory; give the path of an X12 file"},
    ]
    assert str(missing) in out["error"]
    assert [report["file"] for report in out["files"]] == [str(OURS / "855-cascadia-accept.edi")]


def test_text_is_a_line_per_file_interchange_and_transaction_set() -> None:
    two_sets = THIRD_PARTY / "X12Parser/855-855SSimmons.txt"
    code, lines = inspect_text(str(two_sets), str(OURS / "bad-envelope.edi"), str(THIRD_PARTY / "EdiEngine/NonEdi.edi"))
    assert code == 0
    assert lines[0] == f"{two_sets}: valid; 1 interchange, 1 group, 2 transaction sets"
    assert lines[1].startswith("  interchange 000076417 01/121792154 -> 12/1234567890, version 00401")
    assert lines[2] == "    855 0001: 11 segments, group PR 76417, at segment 3"
    assert lines[3] == "    855 0002: 9 segments, group PR 76417, at segment 14"
    assert any(
        line.startswith("    ! interchange 001 at segment 10 (IEA): The Interchange Control Number") for line in lines
    )
    assert any("NonEdi.edi: NOT VALID (1 error); 0 interchanges" in line for line in lines)
    assert any("! interchange 022 at segment 1: Invalid Control Structure: not X12" in line for line in lines)
