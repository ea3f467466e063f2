"""Settings: development defaults work, published placeholder secrets are refused elsewhere."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from runtime import binaries
from runtime.settings import Settings

REAL = {
    "payload_encryption_key": base64.b64encode(os.urandom(32)).decode(),
    "webhook_secret": "a-real-webhook-secret",
    "sandbox_token": "a-real-token",
    "jwt_secret": "a-real-signing-key-of-enough-length",
}


def test_development_defaults() -> None:
    s = Settings(state_dir=Path("/tmp/sb"))
    assert s.resolved_store_url == "sqlite:////tmp/sb/supplybridge.sqlite"
    assert s.system_url("vendor-management") == "http://127.0.0.1:8300/vendor-management"
    assert s.workflow_url("x") == "http://127.0.0.1:8233/namespaces/default/workflows/x"


def test_explicit_system_url_wins() -> None:
    assert Settings(erp_url="https://erp.example/api/").system_url("erp") == "https://erp.example/api"


@pytest.mark.parametrize("name", sorted(REAL))
def test_placeholders_are_refused_outside_development(name: str) -> None:
    values = {**REAL, name: Settings.model_fields[name].default.get_secret_value()}
    with pytest.raises(ValidationError, match=f"SUPPLYBRIDGE_{name.upper()}"):
        Settings(environment="production", **values)
    Settings(environment="production", **REAL)


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPLYBRIDGE_TEMPORAL_ADDRESS", "temporal:7233")
    monkeypatch.setenv("SUPPLYBRIDGE_REVIEW_SLA_HOURS", "2")
    s = Settings()
    assert s.temporal_address == "temporal:7233" and s.review_sla.total_seconds() == 7200


def test_binaries_come_from_the_wheels() -> None:
    assert binaries.temporal_cli_path().is_file() and os.access(binaries.temporal_cli_path(), os.X_OK)
    assert binaries.test_server_path().is_file()
