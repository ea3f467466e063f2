"""What one sandbox system contributes to the app: its path prefix, its routes and its seed.

Adding a system (inventory, vendor channel, AP, ...) is one module exposing a `SandboxSystem`
and one entry in `sandbox.app.SYSTEMS`; faults, auth, idempotency and reset follow from that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class SandboxSystem:
    name: str
    """Path prefix (`/erp`) and the key of its fault settings."""
    router: APIRouter
    seed: Callable[[Session, Path], None]
    """Loads the system's reference data from the seed directory into an empty database."""
