"""docker-compose.yml is not run here (no Docker engine); its wiring is checked instead: every
`service_healthy` dependency has a healthcheck, and every service our image runs is a real command."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_healthy_dependencies_have_healthchecks() -> None:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if rule.get("condition") == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"


def test_our_services_run_existing_cli_commands() -> None:
    from starter.cli import app

    commands = {command.name or command.callback.__name__ for command in app.registered_commands}  # type: ignore[union-attr]
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    ours = [s for s in services.values() if s.get("build")]
    assert ours
    for service in ours:
        assert service["command"][0] in commands


DOCKERFILE = COMPOSE.with_name("Dockerfile")


def test_our_services_run_as_production_with_secrets_from_outside() -> None:
    """No unauthenticated codec is published: production mode puts /codec behind a login, and
    its secrets are never written in the file (compose refuses to start without them)."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name, service in services.items():
        if not service.get("build"):
            continue
        env = service["environment"]
        assert env["SUPPLYBRIDGE_ENVIRONMENT"] == "production", name
        for secret in ("JWT_SECRET", "WEBHOOK_SECRET", "SANDBOX_TOKEN", "PAYLOAD_ENCRYPTION_KEY"):
            value = env[f"SUPPLYBRIDGE_{secret}"]
            assert value.startswith(f"${{SUPPLYBRIDGE_{secret}:?"), f"{name}: {secret} must come from outside"
    assert "SUPPLYBRIDGE_ENVIRONMENT=production" in DOCKERFILE.read_text()


def test_the_ui_sends_the_operators_session_to_the_codec() -> None:
    ui = yaml.safe_load(COMPOSE.read_text())["services"]["temporal-ui"]["environment"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
