"""Observability (issue 11): the delivery workers' heartbeats, read by /readyz.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create worker_heartbeat."""
    op.create_table(
        "worker_heartbeat",
        sa.Column("worker_id", sa.String(128), primary_key=True),
        sa.Column("beat_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_worker_heartbeat_beat_at", "worker_heartbeat", ["beat_at"])


def downgrade() -> None:
    """Drop worker_heartbeat."""
    op.drop_index("ix_worker_heartbeat_beat_at", "worker_heartbeat")
    op.drop_table("worker_heartbeat")
