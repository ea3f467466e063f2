"""How a sandbox is started (the CLI and the tests build one of these)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from sandbox.seed import DEFAULT_SEED_DIR
from sandbox.synthetic import SyntheticSpec


class SandboxConfig(BaseModel):
    database_url: str = Field(description="SQLAlchemy URL, e.g. sqlite:///path/sandbox.sqlite")
    seed_dir: Path = DEFAULT_SEED_DIR
    token: str | None = Field(default=None, description="bearer token required on every route but /health")
    webhook_url: str | None = Field(default=None, description="where vendor management posts status events")
    webhook_secret: str = Field(default="", description="HMAC secret of the webhook signature")
    ack_webhook_url: str | None = Field(
        default=None, description="where the vendor channel posts PO acknowledgements (same secret)"
    )
    erp_webhook_url: str | None = Field(
        default=None, description="where the ERP posts receiving events (`receipt.recorded`, same secret)"
    )
    inventory_webhook_url: str | None = Field(
        default=None,
        description="where inventory posts stock breaches (`stock.below_reorder_point`, same secret); none: they wait",
    )
    reset: bool = Field(default=False, description="delete everything and seed again at start")
    synthetic: SyntheticSpec | None = Field(
        default=None, description="after seeding a fresh database, add synthetic suppliers (sandbox/synthetic.py)"
    )
