"""Suite-wide setup: the Temporal SDK core's own log lines (e.g. its WARN about the test server's
heartbeat capability) go to Python logging, where pytest captures them with each test, instead of
being printed over the progress line."""

from __future__ import annotations

import asyncio
import logging
import os
import threading

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


TRYTON_PATHS = ("tests/tryton", "tests/contracts", "tests/e2e")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Start building the Tryton template (about a minute, once per machine: tests/support/tryton.py)
    in the background while the first tests run, so no Tryton test waits the whole build. Only in
    the process that does not run tests itself under xdist (or the only process without it), and
    only when the run includes a Tryton test; the Tryton tests that need it before it is ready
    wait on the template's file lock (runtime/tryton_bootstrap.py), which also keeps the build single."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        return
    arguments = [str(a) for a in session.config.args]
    wanted = not arguments or any(p in a or a.rstrip("/") in ("tests", ".") for a in arguments for p in TRYTON_PATHS)
    if not wanted:
        return
    from tests.support.tryton import TEST_PASSWORD, tryton_available

    if not tryton_available():
        return
    from runtime.tryton_bootstrap import ensure_template, template_path

    if template_path(TEST_PASSWORD).exists():
        return
    thread = threading.Thread(target=asyncio.run, args=(ensure_template(TEST_PASSWORD),), daemon=True)
    thread.start()
