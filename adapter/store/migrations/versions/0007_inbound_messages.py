"""Receiving (issue 9): inbound messages, partners' outcomes of onward referrals, answers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create inbound_message and referral_answer; add onward_referral.outcomes."""
    with op.batch_alter_table("onward_referral") as batch:
        batch.add_column(sa.Column("outcomes", sa.Text, nullable=False, server_default="[]"))
    op.create_table(
        "inbound_message",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("correlation_id", sa.String(64), nullable=False),
        sa.Column("bundle_id", sa.String(64), nullable=False),
        sa.Column("event", sa.String, nullable=False),
        sa.Column("reason", sa.String, nullable=True),
        sa.Column("partner_service", sa.String, nullable=True),
        sa.Column("sender_endpoint", sa.String, nullable=False),
        sa.Column("received_at", _TZ, nullable=False),
        sa.Column("referral_id", sa.String(64), nullable=True),
        sa.Column("onward_referral_id", sa.String(64), nullable=True),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("request_id", name="uq_inbound_message_request_id"),
    )
    for column in ("bundle_id", "referral_id", "onward_referral_id"):
        op.create_index(f"ix_inbound_message_{column}", "inbound_message", [column])
    _create_referral_answer()


def _create_referral_answer() -> None:
    op.create_table(
        "referral_answer",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("referral_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("code", sa.String, nullable=False),
        sa.Column("reason", sa.String, nullable=True),
        sa.Column("recorded_at", _TZ, nullable=False),
        sa.Column("recorded_by", sa.String, nullable=True),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name="fk_referral_answer_referral"
        ),
    )
    op.create_index("ix_referral_answer_referral_id", "referral_answer", ["referral_id"])


def downgrade() -> None:
    """Drop the new tables and the outcomes column."""
    op.drop_table("referral_answer")
    op.drop_table("inbound_message")
    with op.batch_alter_table("onward_referral") as batch:
        batch.drop_column("outcomes")
