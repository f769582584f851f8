"""The Store: one engine, programmatic migrations and units of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from adapter.search.definitions import SearchRegistry, default_registry
from adapter.store.observer import current_observer
from adapter.store.unit_of_work import UnitOfWork

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Any fixed number: every adapter process takes this PostgreSQL lock while it migrates.
_MIGRATION_LOCK = 7_341_202_611


class Store:
    """The adapter's database: SQLite (file or memory) or PostgreSQL, same code on both."""

    def __init__(self, engine: Engine, registry: SearchRegistry | None = None) -> None:
        self.engine = engine
        self.registry = registry or default_registry()

    @classmethod
    def from_url(cls, url: str, registry: SearchRegistry | None = None) -> Store:
        """A store for a SQLAlchemy URL, e.g. sqlite:///var/ld.db or postgresql+psycopg://..."""
        parsed = sa.make_url(url)
        if parsed.drivername in ("postgres", "postgresql"):
            # psycopg 3 is the driver installed; SQLAlchemy would otherwise look for psycopg2.
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_backend_name() == "sqlite":
            return cls(_sqlite_engine(parsed), registry)
        return cls(sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True), registry)

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision; safe from several processes at once."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            _lock_for_migration(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def unit_of_work(self, read_only: bool = False) -> Iterator[UnitOfWork]:
        """One transaction: committed when the block ends, rolled back if it raises.

        read_only=True is for requests that only read: on SQLite they then do not queue
        behind writers for the write lock (WAL readers see the last committed state).
        """
        observer = current_observer()
        with self.engine.connect() as connection:
            if read_only:
                connection = connection.execution_options(ld_read_only=True)
            with connection.begin():
                uow = UnitOfWork(connection, self.registry, observer)
                if observer is None:
                    yield uow
                    return
                try:
                    yield uow
                except BaseException:
                    observer.rolled_back()
                    raise
                if not read_only:
                    observer.before_commit(uow)

    def ping(self) -> bool:
        """True if the database answers."""
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return False
        return True

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_engine(url: sa.URL) -> Engine:
    memory = url.database in (None, "", ":memory:")
    # hide_parameters: a database error's text must not carry the values (an NHS number) to logs.
    options: dict = {
        "connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        "hide_parameters": True,
    }
    if memory:
        # One shared connection, or each checkout would see its own empty database.
        options["poolclass"] = sa.pool.StaticPool
        options["connect_args"]["check_same_thread"] = False
    engine = sa.create_engine(url, **options)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling is off so that BEGIN IMMEDIATE below is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get("ld_read_only"):
            connection.exec_driver_sql("BEGIN")
        else:
            # Take the write lock up front: a read-then-write transaction cannot fail midway.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _lock_for_migration(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
