"""Alerts and the system probes of the alert evaluation (store/alerts.py).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

`alerts.open_key` is `<rule>|<subject>` while an alert is open and NULL once it is resolved: its
unique constraint keeps one open alert per rule and subject. `alert_system_checks` holds the
probes of the last day (the failure rate of a system over a rule's window is read from it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("rule_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("open_key", sa.String(330), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("opened_at", _TIME, nullable=False),
        sa.Column("last_seen_at", _TIME, nullable=False),
        sa.Column("last_notified_at", _TIME, nullable=False),
        sa.Column("notices", sa.Integer(), nullable=False),
        sa.Column("resolved_at", _TIME, nullable=True),
        sa.Column("last_change", sa.String(16), nullable=False),
        sa.Column("last_change_by", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("open_key", name="uq_alerts_open_key"),
    )
    op.create_index("ix_alerts_status_opened_at", "alerts", ["status", "opened_at"])
    op.create_index("ix_alerts_last_change_by", "alerts", ["last_change_by"])
    op.create_table(
        "alert_system_checks",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_system_checks"),
    )
    op.create_index("ix_alert_system_checks_at", "alert_system_checks", ["at"])


def downgrade() -> None:
    op.drop_index("ix_alert_system_checks_at", table_name="alert_system_checks")
    op.drop_table("alert_system_checks")
    op.drop_index("ix_alerts_last_change_by", table_name="alerts")
    op.drop_index("ix_alerts_status_opened_at", table_name="alerts")
    op.drop_table("alerts")
