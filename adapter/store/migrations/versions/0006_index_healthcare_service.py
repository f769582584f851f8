"""Index the new HealthcareService search parameters of services stored before they existed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

`service-type`, `service-category`, `organization` and `active` became HealthcareService search
parameters with partners (which pathways a service takes); without their index rows, the service
directory stored by an earlier release would be missing from those searches, and loading the
directory again does not rewrite resources that have not changed.
"""

from __future__ import annotations

from alembic import op

from adapter.search.definitions import default_registry
from adapter.store.resources import ResourceRepository

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Rebuild the index rows of every stored HealthcareService."""
    ResourceRepository(op.get_bind(), default_registry()).reindex(("HealthcareService",))


def downgrade() -> None:
    """Nothing to undo: the extra index rows are harmless to the older code."""
