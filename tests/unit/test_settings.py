"""Settings: development defaults work, published placeholder secrets are refused elsewhere."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from runtime import binaries
from runtime.settings import Settings

REAL: dict[str, Any] = {
    "payload_encryption_key": base64.b64encode(os.urandom(32)).decode(),
    "webhook_secret": "a-real-webhook-secret-of-at-least-32-bytes",
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


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("jwt_secret", "short-but-not-a-placeholder", "27 bytes; at least 32"),
        ("webhook_secret", "s3cret", "6 bytes; at least 32"),
        ("webhook_secret", "ab" * 20, "fewer than 8 distinct characters"),
        ("payload_encryption_key", base64.b64encode(bytes(32)).decode(), "all zeros"),
        ("payload_encryption_key", base64.b64encode(b"\x07" * 32).decode(), "1 distinct byte values"),
        ("payload_encryption_key", base64.b64encode(bytes(range(8)) * 4).decode(), "8 distinct byte values"),
        ("payload_encryption_key", base64.b64encode(b"correct horse battery staple 123").decode(), "passphrase"),
        ("payload_encryption_key", base64.b64encode(bytes(range(100, 116))).decode(), "16 bytes; AES-256 needs 32"),
        ("payload_encryption_key", "not base64!", "not base64"),
    ],
)
def test_weak_secrets_are_refused_outside_development(name: str, value: str, why: str) -> None:
    values: dict[str, Any] = {**REAL, name: value}
    with pytest.raises(ValidationError, match=f"SUPPLYBRIDGE_{name.upper()} is too weak") as refused:
        Settings(environment="production", **values)
    assert why in str(refused.value)
    assert Settings(environment="development", **values)  # development keeps working as it is


def test_the_published_tryton_password_is_refused_outside_development_only_when_tryton_is_the_erp() -> None:
    Settings(environment="production", **REAL)  # the sandbox ERP: no Tryton password needed
    with pytest.raises(ValidationError, match="SUPPLYBRIDGE_TRYTON_PASSWORD"):
        Settings(environment="production", erp="tryton", **REAL)
    chosen = Settings(environment="production", erp="tryton", tryton_password="a-real-password", **REAL)
    assert chosen.resolved_tryton_url == "http://127.0.0.1:8320"
    assert Settings(tryton_url="https://erp.example/").resolved_tryton_url == "https://erp.example"
