"""Suite-wide setup: the Temporal SDK core's own log lines (e.g. its WARN about the test server's
heartbeat capability) go to Python logging, where pytest captures them with each test, instead of
being printed over the progress line."""

from __future__ import annotations

import logging

import pytest
from temporalio.runtime import LogForwardingConfig, LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

Runtime.set_default(
    Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(
                filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
            )
        )
    ),
    error_if_already_set=False,
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test` runs on two processes (pytest-xdist, `--dist loadgroup`): every test that starts
    a whole stack (marker `e2e`) goes to one of them, one after another. Two stacks at once would
    compete for two cores, and the CLI finds "the running stack" through a well-known record that
    only one stack may hold."""
    for item in items:
        if item.get_closest_marker("e2e") is not None:
            item.add_marker(pytest.mark.xdist_group("stack"))
