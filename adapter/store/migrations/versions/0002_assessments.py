"""Screenings and assessments recorded for a referral, with every earlier version kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def _columns() -> list[sa.Column]:
    return [
        sa.Column("referral_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.Column("native", sa.Text, nullable=False),
        sa.Column("resource_ids", sa.Text, nullable=False),
    ]


def upgrade() -> None:
    """Create the assessment tables."""
    op.create_table(
        "assessment",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        *_columns(),
        sa.ForeignKeyConstraint(["referral_id"], ["referral.id"], name="fk_assessment_referral"),
    )
    op.create_index("ix_assessment_referral_id", "assessment", ["referral_id"])
    op.create_table(
        "assessment_version",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        *_columns(),
    )


def downgrade() -> None:
    """Drop the assessment tables."""
    op.drop_table("assessment_version")
    op.drop_index("ix_assessment_referral_id", table_name="assessment")
    op.drop_table("assessment")
