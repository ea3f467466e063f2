"""Logging for our processes. httpx logs each request URL at INFO, and a URL can carry a tax id
as a query parameter (the ERP's supplier search), so it is kept at WARNING."""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    level = os.environ.get("SUPPLYBRIDGE_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
