"""Initial tables: FHIR resources with version history and search indexes; referrals.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table."""
    _resources()
    _index("search_token", [sa.Column("system", sa.String, nullable=True), _col("code", sa.String)])
    op.create_index(
        "ix_search_token_resource_type_param_code",
        "search_token",
        ["resource_type", "param", "code"],
    )
    _index("search_string", [_col("value", sa.String)])
    op.create_index(
        "ix_search_string_resource_type_param_value",
        "search_string",
        ["resource_type", "param", "value"],
    )
    _index("search_date", [_col("low", _TZ), _col("high", _TZ)])
    op.create_index(
        "ix_search_date_resource_type_param_low", "search_date", ["resource_type", "param", "low"]
    )
    op.create_index(
        "ix_search_date_resource_type_param_high", "search_date", ["resource_type", "param", "high"]
    )
    _index(
        "search_reference", [_col("target_type", sa.String(64)), _col("target_id", sa.String(64))]
    )
    op.create_index(
        "ix_search_reference_resource_type_param_target_id",
        "search_reference",
        ["resource_type", "param", "target_id"],
    )
    op.create_index(
        "ix_search_reference_target_type_target_id",
        "search_reference",
        ["target_type", "target_id"],
    )
    _referrals()


def downgrade() -> None:
    """Drop every table."""
    for table in (
        "referral_version",
        "referral",
        "search_reference",
        "search_date",
        "search_string",
        "search_token",
        "resource_version",
        "resource",
    ):
        op.drop_table(table)


def _col(name: str, kind: sa.types.TypeEngine | type, nullable: bool = False) -> sa.Column:
    return sa.Column(name, kind, nullable=nullable)


def _resources() -> None:
    op.create_table(
        "resource",
        sa.Column("resource_type", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        _col("version", sa.Integer),
        _col("last_updated", _TZ),
        _col("content", sa.Text),
    )
    op.create_index("ix_resource_type_updated", "resource", ["resource_type", "last_updated"])
    op.create_table(
        "resource_version",
        sa.Column("resource_type", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        _col("last_updated", _TZ),
        _col("content", sa.Text),
    )


def _index(name: str, columns: list[sa.Column]) -> None:
    op.create_table(
        name,
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
        _col("resource_type", sa.String(64)),
        _col("resource_id", sa.String(64)),
        _col("param", sa.String(64)),
        *columns,
        sa.ForeignKeyConstraint(
            ["resource_type", "resource_id"],
            ["resource.resource_type", "resource.id"],
            ondelete="CASCADE",
            name=f"fk_{name}_resource",
        ),
    )
    op.create_index(f"ix_{name}_resource", name, ["resource_type", "resource_id"])


def _referral_columns() -> list[sa.Column]:
    return [
        _col("created_at", _TZ),
        _col("updated_at", _TZ),
        _col("local_id", sa.String),
        _col("status", sa.String),
        _col("received_at", _TZ),
        _col("source", sa.String),
        _col("setting", sa.String),
        _col("site", sa.String),
        _col("urgency", sa.String),
        _col("nhs_number", sa.String, nullable=True),
        _col("native", sa.Text),
        _col("resource_ids", sa.Text),
    ]


def _referrals() -> None:
    op.create_table(
        "referral",
        sa.Column("id", sa.String(64), primary_key=True),
        _col("version", sa.Integer),
        *_referral_columns(),
        sa.UniqueConstraint("local_id", name="uq_referral_local_id"),
    )
    op.create_index("ix_referral_received_at", "referral", ["received_at"])
    op.create_index("ix_referral_status", "referral", ["status"])
    op.create_index("ix_referral_nhs_number", "referral", ["nhs_number"])
    op.create_table(
        "referral_version",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        *_referral_columns(),
    )
