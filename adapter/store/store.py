"""The Store: one engine, programmatic migrations and units of work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from adapter.errors import ServiceUnavailable
from adapter.search.definitions import SearchRegistry, default_registry
from adapter.store.observer import current_observer
from adapter.store.unit_of_work import UnitOfWork

MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed number: every adapter process takes this PostgreSQL lock while it migrates.
_MIGRATION_LOCK = 7_341_202_611
DEFAULT_STATEMENT_TIMEOUT_MS = 10_000
_QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout


class Store:
    """The adapter's database: SQLite (file or memory) or PostgreSQL, same code on both."""

    def __init__(self, engine: Engine, registry: SearchRegistry | None = None) -> None:
        self.engine = engine
        self.registry = registry or default_registry()

    @classmethod
    def from_url(
        cls,
        url: str,
        registry: SearchRegistry | None = None,
        statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS,
    ) -> Store:
        """A store for a SQLAlchemy URL, e.g. sqlite:///var/ld.db or postgresql+psycopg://...

        No statement runs longer than statement_timeout_ms: it fails with ServiceUnavailable.
        """
        parsed = sa.make_url(url)
        if parsed.drivername in ("postgres", "postgresql"):
            # psycopg 3 is the driver installed; SQLAlchemy would otherwise look for psycopg2.
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_backend_name() == "sqlite":
            return cls(_sqlite_engine(parsed, statement_timeout_ms), registry)
        return cls(_postgres_engine(parsed, statement_timeout_ms), registry)

    def migrate(self) -> None:
        """Upgrade the schema to the newest revision; safe from several processes at once."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            _lock_for_migration(connection)
            if connection.dialect.name == "postgresql":
                # Building an index on a large table may take longer than one request may.
                connection.execute(sa.text("SET LOCAL statement_timeout = 0"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def unit_of_work(self, read_only: bool = False) -> Iterator[UnitOfWork]:
        """One transaction: committed when the block ends, rolled back if it raises.

        read_only=True is for requests that only read: on SQLite they then do not queue
        behind writers for the write lock (WAL readers see the last committed state).
        """
        observer = current_observer()
        try:
            with self.engine.connect() as connection:
                if read_only:
                    connection = connection.execution_options(ld_read_only=True)
                    if connection.dialect.name == "postgresql":
                        # Under READ COMMITTED each statement takes its own snapshot inside a
                        # transaction too, so reads see the same without BEGIN and COMMIT: two
                        # round trips saved. Writes never run here (before_commit is skipped).
                        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
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
        except sa.exc.OperationalError as error:
            if not _timed_out(error):
                raise
            # `from None`: the SQL and its parameters (an NHS number) stay out of every log.
            raise ServiceUnavailable(
                "The database took too long to answer; try again, or narrow the search.",
                code="timeout",
            ) from None

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


def _timed_out(error: sa.exc.OperationalError) -> bool:
    """Cancelled by statement_timeout, or on SQLite interrupted or tired of waiting to write."""
    original = error.orig
    if getattr(original, "sqlstate", None) == _QUERY_CANCELED:
        return True
    return str(original) in ("interrupted", "database is locked")


def _postgres_engine(url: sa.URL, statement_timeout_ms: int) -> Engine:
    # Options from the URL (a test's search_path) are kept; the timeout is added to them.
    options = f"{url.query.get('options', '')} -c statement_timeout={statement_timeout_ms}"
    # The server caches plans too: a foreign key check is planned once per connection, and one
    # planned while `resource` was small scanned every AuditEvent (ix_resource_type_updated)
    # instead of the primary key: each audited write grew slower as the trail grew (880/s to
    # 300/s over 5,000 events). Custom plans are made with the table's present size.
    options += " -c plan_cache_mode=force_custom_plan"
    url = url.update_query_dict({"options": options.strip()})
    # prepare_threshold=None: psycopg would otherwise prepare a statement after 5 runs and keep
    # the plan made when the tables were small (seconds per search once they have grown).
    # hide_parameters: a database error's text must not carry the values (an NHS number) to logs.
    return sa.create_engine(
        url,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"prepare_threshold": None},
    )


def _sqlite_engine(url: sa.URL, statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS) -> Engine:
    memory = url.database in (None, "", ":memory:")
    # Waiting for another writer's lock is bounded by the same budget as a statement.
    busy_timeout_ms = statement_timeout_ms
    # hide_parameters: a database error's text must not carry the values (an NHS number) to logs.
    options: dict = {
        "connect_args": {"timeout": busy_timeout_ms / 1000},
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
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.close()
        # SQLite has no statement timeout: a progress handler interrupts a statement past its
        # deadline. The deadline is set as each statement starts and cleared when it returns.
        deadline = _record.info["ld_deadline"] = [float("inf")]
        dbapi_connection.set_progress_handler(lambda: time.monotonic() > deadline[0], 10_000)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _start_clock(connection: Connection, *_args: Any) -> None:
        connection.info["ld_deadline"][0] = time.monotonic() + statement_timeout_ms / 1000

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _stop_clock(connection: Connection, *_args: Any) -> None:
        connection.info["ld_deadline"][0] = float("inf")

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
