"""Alembic environment: runs on the connection the Store hands over (see Store.migrate)."""

from __future__ import annotations

from alembic import context

from adapter.store.tables import metadata


def run_migrations_online() -> None:
    """Migrate on the caller's connection, inside the caller's transaction."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through adapter.store.Store.migrate()")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
