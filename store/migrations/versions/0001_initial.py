"""Initial store schema: cross_references, business_events, dead_letters.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Types are spelled out here rather than imported from `store.models`, so this revision keeps
creating the same schema after the models move on.
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamp(name: str, *, defaulted: bool = False) -> sa.Column[datetime]:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=False,
        server_default=sa.func.now() if defaulted else None,
    )


def upgrade() -> None:
    op.create_table(
        "cross_references",
        sa.Column("id", _ID, nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("source_system", sa.String(64), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("target_system", sa.String(64), nullable=False),
        sa.Column("target_id", sa.String(255), nullable=False),
        sa.Column("workflow_id", sa.String(255), nullable=True),
        _timestamp("created_at", defaulted=True),
        sa.PrimaryKeyConstraint("id", name="pk_cross_references"),
        sa.UniqueConstraint(
            "entity",
            "source_system",
            "source_id",
            "target_system",
            name="uq_cross_references_source",
        ),
    )
    op.create_index("ix_cross_references_target", "cross_references", ["entity", "target_system", "target_id"])

    op.create_table(
        "business_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("workflow_id", sa.String(255), nullable=True),
        _timestamp("occurred_at"),
        sa.Column("data", _JSON, nullable=False),
        _timestamp("recorded_at", defaulted=True),
        sa.PrimaryKeyConstraint("id", name="pk_business_events"),
        sa.UniqueConstraint("event_id", name="uq_business_events_event_id"),
    )
    op.create_index("ix_business_events_type_occurred_at", "business_events", ["type", "occurred_at"])
    op.create_index("ix_business_events_subject_occurred_at", "business_events", ["subject", "occurred_at"])

    op.create_table(
        "dead_letters",
        sa.Column("id", _ID, nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("record_key", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        _timestamp("created_at", defaulted=True),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_source_created_at", "dead_letters", ["source", "created_at"])


def downgrade() -> None:
    op.drop_table("dead_letters")
    op.drop_table("business_events")
    op.drop_table("cross_references")
