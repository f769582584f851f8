"""Onward referrals and the transactional outbox of messages to partners.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the onward_referral and outbox_message tables."""
    op.create_table(
        "onward_referral",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("referral_id", sa.String(64), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("pathway", sa.String, nullable=False),
        sa.Column("partner_service", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("correlation_id", sa.String, nullable=False),
        sa.Column("native", sa.Text, nullable=False),
        sa.Column("resource_ids", sa.Text, nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name="fk_onward_referral_referral"
        ),
    )
    op.create_index("ix_onward_referral_referral_id", "onward_referral", ["referral_id"])
    _create_outbox()


def _create_outbox() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("sequence", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("endpoint_id", sa.String(64), nullable=False),
        sa.Column("transport", sa.String, nullable=False),
        sa.Column("ordering_key", sa.String, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("onward_referral_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("next_attempt_at", _TZ, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("delivered_at", _TZ, nullable=True),
        sa.Column("last_attempt_at", _TZ, nullable=True),
        sa.Column("last_status_code", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("partner_outcome", sa.Text, nullable=True),
        sa.Column("lease_owner", sa.String, nullable=True),
        sa.Column("lease_expires_at", _TZ, nullable=True),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("sequence", name="uq_outbox_message_sequence"),
        sa.UniqueConstraint("request_id", name="uq_outbox_message_request_id"),
    )
    op.create_index(
        "ix_outbox_message_status_next", "outbox_message", ["status", "next_attempt_at"]
    )
    op.create_index("ix_outbox_message_ordering", "outbox_message", ["ordering_key", "sequence"])
    pending = sa.text("status IN ('queued', 'retrying')")
    op.create_index(
        "ix_outbox_message_pending",
        "outbox_message",
        ["sequence"],
        postgresql_where=pending,
        sqlite_where=pending,
    )
    op.create_index(
        "ix_outbox_message_onward_referral_id", "outbox_message", ["onward_referral_id"]
    )


def downgrade() -> None:
    """Drop the outbox and onward referral tables."""
    op.drop_table("outbox_message")
    op.drop_index("ix_onward_referral_referral_id", table_name="onward_referral")
    op.drop_table("onward_referral")
