"""Event subscriptions and the outbox of their deliveries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25

A delivery row is written in the same transaction as the business event it delivers (and the
event's audit entry), one per subscription that receives it; the relay works them off in the
event's `sequence` (its `business_events.id`). A delivery that failed for good stays as a row in
status `dead`: it is the dead letter, replayed or discarded in place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "event_subscriptions",
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("types", _JSON, nullable=False),
        sa.Column("url", sa.String(2000), nullable=True),
        sa.Column("secret", sa.String(200), nullable=True),
        sa.Column("team", sa.String(64), nullable=True),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("removed_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("subscription_id", name="pk_event_subscriptions"),
    )
    op.create_table(
        "event_deliveries",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _TIME, nullable=True),
        sa.Column("first_failed_at", _TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", _TIME, nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_event_deliveries"),
        sa.UniqueConstraint("subscription_id", "event_id", name="uq_event_deliveries_subscription_event"),
    )
    op.create_index(
        "ix_event_deliveries_status_subscription_sequence",
        "event_deliveries",
        ["status", "subscription_id", "sequence"],
    )


def downgrade() -> None:
    op.drop_index("ix_event_deliveries_status_subscription_sequence", table_name="event_deliveries")
    op.drop_table("event_deliveries")
    op.drop_table("event_subscriptions")
