"""Master-data sync runs and their drift rows (the drift report).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "master_data_syncs",
        sa.Column("sync_id", sa.String(255), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("sync_id", name="pk_master_data_syncs"),
    )
    op.create_index("ix_master_data_syncs_entity_started_at", "master_data_syncs", ["entity", "started_at"])
    op.create_table(
        "master_data_drifts",
        sa.Column("sync_id", sa.String(255), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("batch", sa.Integer(), nullable=False),
        sa.Column("row", _JSON, nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("sync_id", "seq", name="pk_master_data_drifts"),
    )
    op.create_index("ix_master_data_drifts_sync_batch", "master_data_drifts", ["sync_id", "batch"])


def downgrade() -> None:
    op.drop_index("ix_master_data_drifts_sync_batch", table_name="master_data_drifts")
    op.drop_table("master_data_drifts")
    op.drop_index("ix_master_data_syncs_entity_started_at", table_name="master_data_syncs")
    op.drop_table("master_data_syncs")
