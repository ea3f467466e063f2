"""A setting that cannot be parsed names its variable and the reason (exit 2, on every command);
`token api-key` prints a settings entry that is valid JSON; `sandbox --help` lists every system
the sandbox serves."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from runtime.settings import ApiGrant, Settings
from sandbox.app import SYSTEMS
from starter.cli import app as cli_app

COMMANDS = [["status", "PO-2026-000451"], ["events"], ["audit", "verify"], ["token", "issue", "--scopes", "audit:read"]]


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app, list(args), standalone_mode=False, env=env)
    assert result.exception is None, result.exception
    return int(result.return_value or 0), result.stdout, result.stderr


@pytest.fixture(autouse=True)
def in_a_fresh_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no .env but the test's own


@pytest.mark.parametrize("command", COMMANDS)
def test_a_setting_that_is_not_json_names_the_variable_and_why(command: list[str]) -> None:
    code, out, _ = invoke(*command, "--json", env={"SUPPLYBRIDGE_API_KEYS": "[{"})
    answer: dict[str, Any] = json.loads(out)
    assert code == 2 and answer["ok"] is False
    assert [e["field"] for e in answer["errors"]] == ["SUPPLYBRIDGE_API_KEYS"]
    assert "not valid JSON" in answer["errors"][0]["reason"] and "environment" in answer["errors"][0]["reason"]
    assert "SUPPLYBRIDGE_API_KEYS" in answer["error"] and "SettingsError" not in answer["error"]


def test_a_bad_value_in_dot_env_says_so_in_text_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SUPPLYBRIDGE_OAUTH_CLIENTS=nope\n")
    code, out, err = invoke("events")
    assert code == 2 and out == ""
    assert "SUPPLYBRIDGE_OAUTH_CLIENTS" in err and "not valid JSON" in err and ".env" in err


@pytest.mark.parametrize(
    ("variable", "value", "field", "reason"),
    [
        ("SUPPLYBRIDGE_API_PORT", "eighty", "SUPPLYBRIDGE_API_PORT", "valid integer"),
        ("SUPPLYBRIDGE_API_KEYS", '[{"subject": "x"}]', "SUPPLYBRIDGE_API_KEYS[0].secret_sha256", "Field required"),
        ("SUPPLYBRIDGE_ENVIRONMENT", "production", "SUPPLYBRIDGE_PAYLOAD_ENCRYPTION_KEY", "real secret"),
    ],
)
def test_an_invalid_setting_names_the_variable(variable: str, value: str, field: str, reason: str) -> None:
    code, out, _ = invoke("events", "--json", env={variable: value})
    answer = json.loads(out)
    assert code == 2 and answer["errors"][0]["field"] == field and reason in answer["errors"][0]["reason"]


def test_token_api_key_prints_the_settings_entry_as_json() -> None:
    code, out, _ = invoke("token", "api-key", "--subject", "erp-bridge", "--scopes", "procurement:write",
                          "--system", "erp")  # fmt: skip
    lines = out.splitlines()
    key = lines[lines.index(next(line for line in lines if line.startswith("API key"))) + 1]
    entry = json.loads(lines[-1])
    assert code == 0 and key.startswith("sbk_")
    assert ApiGrant.model_validate(entry).secret_sha256 == hashlib.sha256(key.encode()).hexdigest()
    assert Settings(api_keys=[entry]).api_keys[0].systems == ["erp"]


def test_sandbox_help_lists_every_system_it_serves() -> None:
    code, out, _ = invoke("sandbox", "--help", env={"COLUMNS": "400"})
    assert code == 0
    prefixes = set(re.findall(r"/[a-z][a-z-]*(?:/[a-z-]+)?", out))
    missing = [f"/{system.name}" for system in SYSTEMS if f"/{system.name}" not in prefixes]
    assert not missing and "/admin/faults" in prefixes, missing
