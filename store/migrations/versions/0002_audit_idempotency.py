"""Audit trail (append-only, hash-chained) and API idempotency records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("seq", _ID, nullable=False, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(120), nullable=False),
        sa.Column("record_type", sa.String(60), nullable=False),
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(120), nullable=True),
        sa.Column("details", _JSON, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
        sa.UniqueConstraint("prev_hash", name="uq_audit_entries_prev_hash"),
        sa.UniqueConstraint("hash", name="uq_audit_entries_hash"),
    )
    op.create_index("ix_audit_entries_record", "audit_entries", ["record_type", "record_id", "seq"])
    op.create_index("ix_audit_entries_actor_at", "audit_entries", ["actor", "at"])
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    op.create_table(
        "idempotency_records",
        sa.Column("principal", sa.String(200), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", name="pk_idempotency_records"),
    )
    op.create_index("ix_idempotency_records_expires_at", "idempotency_records", ["expires_at"])


def downgrade() -> None:
    op.drop_table("idempotency_records")
    op.drop_index("ix_audit_entries_at", table_name="audit_entries")
    op.drop_index("ix_audit_entries_actor_at", table_name="audit_entries")
    op.drop_index("ix_audit_entries_record", table_name="audit_entries")
    op.drop_table("audit_entries")
