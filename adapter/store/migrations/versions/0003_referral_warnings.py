"""Referral data-quality warnings (e.g. a person whose birth date differs from the stored one).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Identity matching needs no schema change: it is serialised with advisory locks (see
adapter/services/identity.py), so Patients duplicated before this revision stay readable.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add referral.warnings and referral_version.warnings (JSON text, empty list by default)."""
    for table in ("referral", "referral_version"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("warnings", sa.Text, nullable=False, server_default="[]"))


def downgrade() -> None:
    """Drop the warnings columns."""
    for table in ("referral", "referral_version"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("warnings")
