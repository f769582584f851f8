"""Index the `patient` search parameter of Encounters and Consents stored before it existed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

`Encounter?patient=` and `Consent?patient=` became search parameters in this release; without
their index rows, records stored earlier would silently be missing from those searches.
"""

from __future__ import annotations

from alembic import op

from adapter.search.definitions import default_registry
from adapter.store.resources import ResourceRepository

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Rebuild the index rows of every stored Encounter and Consent."""
    ResourceRepository(op.get_bind(), default_registry()).reindex(("Encounter", "Consent"))


def downgrade() -> None:
    """Nothing to undo: the extra index rows are harmless to the older code."""
