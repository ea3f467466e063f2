"""Idempotency claims carry a lease: a claim whose request died is taken over after it.

Revision ID: 0003
Revises: 0002
Create Date: 2027-01-12

`attempt` fences the holders (a stale holder cannot complete or release a claim taken over);
`lease_expires_at` NULL (a claim made before this revision) counts as expired.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_records") as batch:
        batch.add_column(sa.Column("attempt", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_records") as batch:
        batch.drop_column("lease_expires_at")
        batch.drop_column("attempt")
