"""Transaction-scoped locks on application keys (PostgreSQL advisory locks)."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def lock_keys(connection: Connection, keys: Iterable[str]) -> None:
    """Hold a PostgreSQL advisory lock on each key until the transaction ends.

    Keys are taken in sorted order, so two transactions wanting the same keys cannot deadlock.
    SQLite needs nothing: every write transaction there starts with BEGIN IMMEDIATE, which
    already lets only one writer in at a time.
    """
    if connection.dialect.name != "postgresql":
        return
    hashed = sorted({_key_hash(key) for key in keys})
    if hashed:
        connection.execute(_locking(len(hashed)), {f"k{i}": k for i, k in enumerate(hashed)})


@functools.lru_cache(maxsize=16)
def _locking(count: int) -> sa.TextClause:
    """SELECT taking `count` locks, built once per count (every referral takes its keys)."""
    calls = ", ".join(f"pg_advisory_xact_lock(:k{i})" for i in range(count))
    return sa.text(f"SELECT {calls}")


def _key_hash(key: str) -> int:
    """A signed 64-bit number for a key (a collision only makes two writers wait in turn)."""
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
