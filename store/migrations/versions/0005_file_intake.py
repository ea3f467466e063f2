"""File intake: received files, interchange control numbers taken, trading partners, intake dead
letters, EDI messages and outbound control number counters; seeds the trading partner CASCADIAPHARM.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-18

Intake dead letters get a table of their own rather than new columns on the generic `dead_letters`
of 0001: they have a lifecycle (open, replayed, discarded, by whom, when), a uniqueness rule (one
per file, position and kind, so a retried activity adds one) and required fields (the file, the
raw text) that the generic table's rows do not have; nine nullable columns there would make
both kinds of row say less.

The seed partner is data of this revision, written out here as it was on the day (not read from
`store.intake`, which may move on): every store, whichever process creates it (`supplybridge up`,
the demo, the compose topology's worker or API on PostgreSQL), gets it exactly once, inside the
migration's lock, and a partner later replaced with `PUT /v1/partners/CASCADIAPHARM` or
`supplybridge partners add` stays replaced. tests/store/test_intake_store.py checks that it agrees
with `store.intake.SEED_PARTNERS` and examples/partners/cascadiapharm.json.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)

CASCADIAPHARM = {
    "partner_id": "CASCADIAPHARM",
    "name": "Cascadia Pharma Distribution Corp",
    "supplier_id": "SUP-0003",
    "isa_qualifier": "ZZ",
    "isa_id": "CASCADIAPHARM",
    "gs_id": "CASCADIAPHARM",
    "transaction_sets": ["810", "850", "855", "856", "997"],
    "x12_version": "004010",
    "functional_ack": "997",
    "outbound": "vendor_channel_edi",
    "edi_only": True,
}
_LOOKUP_COLUMNS = ("partner_id", "name", "supplier_id", "isa_qualifier", "isa_id", "gs_id")


def upgrade() -> None:
    op.create_table(
        "intake_files",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received_at", _TIME, nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("finished_at", _TIME, nullable=True),
        sa.Column("result", _JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_intake_files"),
    )
    op.create_index("ix_intake_files_received_at", "intake_files", ["received_at"])
    op.create_table(
        "intake_interchanges",
        sa.Column("partner_id", sa.String(40), nullable=False),
        sa.Column("control_number", sa.String(16), nullable=False),
        sa.Column("file_id", sa.String(64), nullable=False),
        sa.Column("claimed_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "control_number", name="pk_intake_interchanges"),
    )
    partners = op.create_table(
        "trading_partners",
        sa.Column("partner_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("supplier_id", sa.String(40), nullable=False),
        sa.Column("isa_qualifier", sa.String(2), nullable=False),
        sa.Column("isa_id", sa.String(15), nullable=False),
        sa.Column("gs_id", sa.String(15), nullable=False),
        sa.Column("partner", _JSON, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("partner_id", name="pk_trading_partners"),
        sa.UniqueConstraint("isa_qualifier", "isa_id", name="uq_trading_partners_isa_sender"),
    )
    op.create_index("ix_trading_partners_supplier_id", "trading_partners", ["supplier_id"])
    op.create_table(
        "intake_dead_letters",
        sa.Column("id", _ID, nullable=False),
        sa.Column("file_id", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("position", sa.String(500), nullable=False),
        sa.Column("partner_id", sa.String(40), nullable=True),
        sa.Column("record_key", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("resolved_at", _TIME, nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("details", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_intake_dead_letters"),
        sa.UniqueConstraint("file_id", "position", "kind", name="uq_intake_dead_letters_record"),
    )
    op.create_index("ix_intake_dead_letters_status_id", "intake_dead_letters", ["status", "id"])
    op.create_table(
        "edi_messages",
        sa.Column("id", _ID, nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("partner_id", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("control_number", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("related", sa.String(255), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_edi_messages"),
        sa.UniqueConstraint("direction", "kind", "control_number", "text_sha256", name="uq_edi_messages_message"),
    )
    op.create_index("ix_edi_messages_partner_kind_control", "edi_messages", ["partner_id", "kind", "control_number"])
    op.create_table(
        "intake_control_numbers",
        sa.Column("partner_id", sa.String(40), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", name="pk_intake_control_numbers"),
    )
    op.bulk_insert(
        partners,
        [
            {
                **{column: CASCADIAPHARM[column] for column in _LOOKUP_COLUMNS},
                "partner": CASCADIAPHARM,
                "updated_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("intake_control_numbers")
    op.drop_index("ix_edi_messages_partner_kind_control", table_name="edi_messages")
    op.drop_table("edi_messages")
    op.drop_index("ix_intake_dead_letters_status_id", table_name="intake_dead_letters")
    op.drop_table("intake_dead_letters")
    op.drop_index("ix_trading_partners_supplier_id", table_name="trading_partners")
    op.drop_table("trading_partners")
    op.drop_table("intake_interchanges")
    op.drop_index("ix_intake_files_received_at", table_name="intake_files")
    op.drop_table("intake_files")
