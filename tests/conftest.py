"""Suite-wide setup: the Temporal SDK core's own log lines (e.g. its WARN about the test server's
heartbeat capability) go to Python logging, where pytest captures them with each test, instead of
being printed over the progress line."""

from __future__ import annotations

import logging

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
