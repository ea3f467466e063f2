"""`supplybridge --version` prints the installed distribution's version."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata


def test_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "starter.cli", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"supplybridge {metadata.version('supplybridge')}"
