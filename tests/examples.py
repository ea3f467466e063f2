"""Loading the project's example inputs (examples/, copied from the shared contract)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from domain.supplier import SupplierOnboardingRequest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def example_json(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / relative).read_text())
    return data


def supplier_request(name: str, **changes: Any) -> SupplierOnboardingRequest:
    """An example supplier file, with top-level fields replaced by `changes`."""
    data = example_json(f"suppliers/{name}.json")
    data.update(changes)
    return SupplierOnboardingRequest.model_validate(data)
