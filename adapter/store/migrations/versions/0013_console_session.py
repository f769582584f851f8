"""Console sessions kept server-side, so signing out revokes the cookie (review ops F4).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01

The cookie holds a random session id; only its SHA-256 is stored, with whom it is for and when
it ends. Signing out marks it ended: a copied cookie is refused from then on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create console_session."""
    op.create_table(
        "console_session",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String, nullable=False),
        sa.Column("expires_at", _TZ, nullable=False),
        sa.Column("ended_at", _TZ, nullable=True),
    )
    op.create_index("ix_console_session_expires_at", "console_session", ["expires_at"])


def downgrade() -> None:
    """Drop console_session."""
    op.drop_index("ix_console_session_expires_at", table_name="console_session")
    op.drop_table("console_session")
