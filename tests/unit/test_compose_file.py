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
