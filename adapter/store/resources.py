"""FHIR resources: current version, every version in history, and search index rows."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.errors import Conflict, InvalidInput, Issue, NotFound, PreconditionFailed
from adapter.search.definitions import FHIR_ID, SearchRegistry
from adapter.search.extract import extract
from adapter.search.query import SearchPage, SearchQuery
from adapter.store import search_sql
from adapter.store.bulk import insert_rows
from adapter.store.observer import Observer
from adapter.store.tables import (
    resource,
    resource_version,
    search_date,
    search_reference,
    search_string,
    search_token,
)

_TYPE = re.compile(r"[A-Z][A-Za-z]{0,63}")
R = resource.c
_INDEX_TABLES = (search_token, search_string, search_date, search_reference)
# Built once: every referral reads by key, and building a statement costs more than running it.
_READ = sa.select(R.content).where(
    R.resource_type == sa.bindparam("resource_type"), R.id == sa.bindparam("id")
)


class ResourceRepository:
    """FHIR resources stored as their JSON, with versions and search indexes."""

    def __init__(
        self, connection: Connection, registry: SearchRegistry, observer: Observer | None = None
    ) -> None:
        self._db = connection
        self._registry = registry
        self._observer = observer

    def create(self, resource_json: dict) -> dict:
        """Store version 1; Conflict if the type/id exists. Returns the stored copy with meta."""
        resource_type, resource_id = _identity(resource_json, allow_new_id=True)
        stored = _with_meta(resource_json, resource_id, 1)
        row = _row(stored)
        try:
            with self._db.begin_nested():
                self._db.execute(resource.insert(), row)
        except sa.exc.IntegrityError:
            raise Conflict(
                Issue(f"A {resource_type} with this id already exists.", code="duplicate")
            ) from None
        self._db.execute(resource_version.insert(), row)
        self._index(stored, replace=False)
        self._touched([stored], written=True)
        return stored

    def create_many(self, resources: list[dict]) -> list[dict]:
        """Store each as version 1 (one statement on PostgreSQL); Conflict if any id is taken.

        For resources with fresh ids (a new referral's): no savepoint per resource, so a
        Conflict here leaves the transaction unusable and the caller's unit of work rolls back.
        """
        stored = []
        for resource_json in resources:
            _, resource_id = _identity(resource_json, allow_new_id=True)
            stored.append(_with_meta(resource_json, resource_id, 1))
        if not stored:
            return []
        rows = [_row(s) for s in stored]
        try:
            insert_rows(
                self._db, {resource: rows, resource_version: rows, **self._index_rows(stored)}
            )
        except sa.exc.IntegrityError:
            raise Conflict(
                Issue("A resource with this id already exists.", code="duplicate")
            ) from None
        self._touched(stored, written=True)
        return stored

    def update(self, resource_json: dict, expected_version: str | None = None) -> dict:
        """Store a new version; NotFound if absent, PreconditionFailed if not expected_version."""
        resource_type, resource_id = _identity(resource_json, allow_new_id=False)
        current = self._db.execute(
            sa.select(R.version)
            .where(R.resource_type == resource_type, R.id == resource_id)
            .with_for_update()
        ).scalar_one_or_none()
        if current is None:
            raise NotFound(f"There is no {resource_type} with this id.")
        if expected_version is not None and str(expected_version) != str(current):
            raise PreconditionFailed(
                f"The {resource_type} is at version {current}, not {expected_version}."
            )
        stored = _with_meta(resource_json, resource_id, current + 1)
        row = _row(stored)
        updated = self._db.execute(
            resource.update()
            .where(R.resource_type == resource_type, R.id == resource_id, R.version == current)
            .values(
                version=row["version"], last_updated=row["last_updated"], content=row["content"]
            )
        )
        if updated.rowcount != 1:
            raise PreconditionFailed(f"The {resource_type} changed while it was being updated.")
        self._db.execute(resource_version.insert(), row)
        self._index(stored)
        self._touched([stored], written=True)
        return stored

    def upsert(self, resource_json: dict) -> dict:
        """Create, or update only if something other than meta differs from what is stored."""
        resource_type, resource_id = _identity(resource_json, allow_new_id=False)
        current = self.read(resource_type, resource_id)
        if current is None:
            try:
                return self.create(resource_json)
            except Conflict:
                # Another process (a second worker starting) created it first: compare to theirs.
                current = self.read(resource_type, resource_id)
                if current is None:
                    raise
        if _without_meta(current) == _without_meta(resource_json):
            return current
        return self.update(resource_json)

    def read(self, resource_type: str, resource_id: str) -> dict | None:
        """The current version, or None."""
        content = self._db.execute(
            _READ, {"resource_type": resource_type, "id": resource_id}
        ).scalar_one_or_none()
        return self._seen(orjson.loads(content)) if content is not None else None

    def vread(self, resource_type: str, resource_id: str, version: str) -> dict | None:
        """One version, or None."""
        version = str(version)
        if not (version.isascii() and version.isdigit()) or len(version) > 9:
            return None
        V = resource_version.c
        content = self._db.execute(
            sa.select(V.content).where(
                V.resource_type == resource_type, V.id == resource_id, V.version == int(version)
            )
        ).scalar_one_or_none()
        return self._seen(orjson.loads(content)) if content is not None else None

    def history(self, resource_type: str, resource_id: str) -> list[dict]:
        """Every version, newest first (empty if the resource never existed)."""
        V = resource_version.c
        rows = self._db.execute(
            sa.select(V.content)
            .where(V.resource_type == resource_type, V.id == resource_id)
            .order_by(V.version.desc())
        ).scalars()
        versions = [orjson.loads(content) for content in rows]
        self._touched(versions[:1], written=False)
        return versions

    def find_by_identifier(self, resource_type: str, system: str | None, value: str) -> dict | None:
        """The most recently updated resource of the type with this identifier, or None."""
        return self.find_by_identifiers(resource_type, [(system, value)])

    def find_by_identifiers(
        self, resource_type: str, identifiers: list[tuple[str | None, str]]
    ) -> dict | None:
        """The resource with the first-listed identifier that any has (newest first), or None.

        Identity matching runs on every referral, so its cost must stay flat as the store grows
        whatever the planner's statistics say: each identifier is an exact index lookup, and
        only when one matches are the resources read by their keys (a join with an OR over
        the identifiers let stale statistics walk every Patient per referral).
        """
        if not identifiers:
            return None
        lookup = search_sql.identifier_lookup(
            resource_type, tuple(s is not None for s, _ in identifiers)
        )
        values = {f"code{rank}": value for rank, (_, value) in enumerate(identifiers)}
        values.update(
            {f"system{rank}": s for rank, (s, _) in enumerate(identifiers) if s is not None}
        )
        ranks: dict[str, int] = {}
        for resource_id, rank in self._db.execute(lookup, values):
            ranks[resource_id] = min(rank, ranks.get(resource_id, rank))
        if not ranks:
            return None
        # One key lookup per candidate: `id IN (...)` let stale statistics scan every Patient.
        reads = [
            sa.select(R.id, R.last_updated, R.content).where(
                R.resource_type == resource_type, R.id == resource_id
            )
            for resource_id in sorted(ranks)
        ]
        rows = list(self._db.execute(sa.union_all(*reads)).all())
        if not rows:
            return None
        # Best-ranked identifier first, then the most recently updated, then by id.
        rows.sort(key=lambda row: row.id)
        rows.sort(key=lambda row: row.last_updated, reverse=True)
        best = min(rows, key=lambda row: ranks[row.id])
        return orjson.loads(best.content)

    def find_all_by_identifier(
        self, resource_type: str, system: str | None, value: str
    ) -> list[dict]:
        """Every resource of the type with this identifier, by id (an exact index lookup)."""
        lookup = search_sql.identifier_lookup(resource_type, (system is not None,))
        values = {"code0": value, **({"system0": system} if system is not None else {})}
        found = sorted({resource_id for resource_id, _ in self._db.execute(lookup, values)})
        # Matching is not a read the audit records, as for find_by_identifiers.
        contents = (
            self._db.execute(
                _READ, {"resource_type": resource_type, "id": resource_id}
            ).scalar_one_or_none()
            for resource_id in found
        )
        return [orjson.loads(content) for content in contents if content is not None]

    def search(self, resource_type: str, query: SearchQuery) -> SearchPage:
        """One page of matches in a stable order (newest first), the total, and includes."""
        where = [
            R.resource_type == resource_type,
            *(search_sql.condition(c, resource_type) for c in query.criteria),
        ]
        total = self._db.execute(sa.select(sa.func.count()).select_from(resource).where(*where))
        rows = self._db.execute(
            sa.select(R.id, R.content)
            .where(*where)
            .order_by(R.last_updated.desc(), R.id)
            .limit(query.count)
            .offset(query.offset)
        ).all()
        ids = [row.id for row in rows]
        page = SearchPage(
            resources=[orjson.loads(row.content) for row in rows],
            total=total.scalar_one(),
            included=self._included(resource_type, ids, query) if ids else [],
        )
        self._touched([*page.resources, *page.included], written=False)
        return page

    def reindex(self, resource_types: tuple[str, ...] | None = None) -> int:
        """Rebuild the index rows of current versions (all, or these types) after a change."""
        query = sa.select(R.content)
        if resource_types is not None:
            query = query.where(R.resource_type.in_(resource_types))
        rows = self._db.execute(query).scalars().all()
        for content in rows:
            self._index(orjson.loads(content))
        return len(rows)

    def _seen(self, found: dict) -> dict:
        self._touched([found], written=False)
        return found

    def _touched(self, resources: list[dict], written: bool) -> None:
        if self._observer is not None and resources:
            self._observer.touched(resources, written)

    def _included(self, resource_type: str, ids: list[str], query: SearchQuery) -> list[dict]:
        found: dict[tuple[str, str], dict] = {}
        S = search_reference.c
        for include in query.includes:
            targets = (
                (include.target_type,) if include.target_type else self._registry.resource_types
            )
            rows = self._db.execute(
                sa.select(R.resource_type, R.id, R.content)
                .join(
                    search_reference, sa.and_(S.target_type == R.resource_type, S.target_id == R.id)
                )
                .where(
                    S.resource_type == resource_type,
                    S.resource_id.in_(ids),
                    S.param == include.param,
                    S.target_type.in_(targets),
                )
            )
            for row in rows:
                found.setdefault((row.resource_type, row.id), orjson.loads(row.content))
        return list(found.values())

    def _index(self, stored: dict, replace: bool = True) -> None:
        if replace:
            for table in _INDEX_TABLES:
                self._db.execute(
                    table.delete().where(
                        table.c.resource_type == stored["resourceType"],
                        table.c.resource_id == stored["id"],
                    )
                )
        self._index_many([stored])

    def _index_many(self, stored: list[dict]) -> None:
        """Insert the index rows of new resources: one statement per index table, not per row."""
        insert_rows(self._db, self._index_rows(stored))

    def _index_rows(self, stored: list[dict]) -> dict[sa.Table, list[dict]]:
        """The index rows of resources, by index table."""
        rows: dict[sa.Table, list[dict]] = {table: [] for table in _INDEX_TABLES}
        for resource_json in stored:
            key = {
                "resource_type": resource_json["resourceType"],
                "resource_id": resource_json["id"],
            }
            entries = extract(resource_json, self._registry)
            for table, names, values in (
                (search_token, ("param", "system", "code"), entries.tokens),
                (search_string, ("param", "value"), entries.strings),
                (search_date, ("param", "low", "high"), entries.dates),
                (search_reference, ("param", "target_type", "target_id"), entries.references),
            ):
                rows[table].extend({**key, **dict(zip(names, v, strict=True))} for v in values)
        return rows


def _identity(resource_json: dict, allow_new_id: bool) -> tuple[str, str]:
    resource_type = resource_json.get("resourceType")
    if not isinstance(resource_type, str) or not _TYPE.fullmatch(resource_type):
        raise InvalidInput(
            Issue("resourceType is missing or malformed.", expression=("resourceType",))
        )
    resource_id = resource_json.get("id")
    if resource_id is None and allow_new_id:
        return resource_type, str(uuid.uuid4())
    if not isinstance(resource_id, str) or not FHIR_ID.fullmatch(resource_id):
        raise InvalidInput(
            Issue("id is missing or not a FHIR id.", expression=(f"{resource_type}.id",))
        )
    return resource_type, resource_id


def _with_meta(resource_json: dict, resource_id: str, version: int) -> dict:
    now = datetime.now(UTC)
    meta = {
        **resource_json.get("meta", {}),
        "versionId": str(version),
        "lastUpdated": now.isoformat(),
    }
    rest = {k: v for k, v in resource_json.items() if k not in ("resourceType", "id", "meta")}
    return {"resourceType": resource_json["resourceType"], "id": resource_id, "meta": meta, **rest}


def _without_meta(resource_json: dict) -> dict:
    return {k: v for k, v in resource_json.items() if k != "meta"}


def _row(stored: dict) -> dict:
    return {
        "resource_type": stored["resourceType"],
        "id": stored["id"],
        "version": int(stored["meta"]["versionId"]),
        "last_updated": datetime.fromisoformat(stored["meta"]["lastUpdated"]),
        "content": orjson.dumps(stored).decode(),
    }
