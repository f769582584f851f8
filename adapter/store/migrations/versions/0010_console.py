"""The operations console (issue 11): delivery attempts, one-time sign-in links, rejected inbound.

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-01

The outbox row keeps only the last attempt; `outbox_attempt` keeps each, so a message page shows
its history and the overview counts deliveries per partner by time without reading messages.
`inbound_rejection` counts refused inbound messages (what, when, from which client; no content).
The indexes serve the console's filters and the overview's counts (no full scans).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create outbox_attempt, console_link and inbound_rejection; index the console's queries."""
    op.create_table(
        "outbox_attempt",
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("endpoint_id", sa.String(64), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("result", sa.String, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("partner_outcome", sa.Text, nullable=True),
        sa.Column("worker", sa.String, nullable=True),
    )
    op.create_index("ix_outbox_attempt_message", "outbox_attempt", ["message_id", "at"])
    op.create_index("ix_outbox_attempt_at", "outbox_attempt", ["at", "endpoint_id", "result"])
    op.create_index("ix_outbox_attempt_endpoint", "outbox_attempt", ["endpoint_id", "result", "at"])
    op.create_table(
        "console_link",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("used_at", _TZ, nullable=True),
    )
    op.create_table(
        "inbound_rejection",
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("client_id", sa.String, nullable=True),
    )
    op.create_index("ix_inbound_rejection_at", "inbound_rejection", ["at"])
    op.create_index(
        "ix_outbox_message_endpoint_status",
        "outbox_message",
        ["endpoint_id", "status", "sequence"],
    )
    op.create_index("ix_outbox_message_status_sequence", "outbox_message", ["status", "sequence"])
    op.create_index(
        "ix_outbox_message_status_endpoint",
        "outbox_message",
        ["status", "endpoint_id", "created_at"],
    )
    op.create_index("ix_outbox_message_created_at", "outbox_message", ["created_at"])
    op.create_index("ix_inbound_message_received_at", "inbound_message", ["received_at"])


def downgrade() -> None:
    """Drop what upgrade made."""
    for index, table in (
        ("ix_inbound_message_received_at", "inbound_message"),
        ("ix_outbox_message_created_at", "outbox_message"),
        ("ix_outbox_message_status_endpoint", "outbox_message"),
        ("ix_outbox_message_status_sequence", "outbox_message"),
        ("ix_outbox_message_endpoint_status", "outbox_message"),
    ):
        op.drop_index(index, table_name=table)
    op.drop_table("inbound_rejection")
    op.drop_table("console_link")
    op.drop_table("outbox_attempt")
