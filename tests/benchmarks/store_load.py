"""Fill a store with many referrals' FHIR resources fast: one mapped referral as a template.

Mapping and index extraction run once; every further referral is the template's rows with its
ids and NHS number substituted, inserted in batches. (100k HTTP posts would take an hour.)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import sqlalchemy as sa

from adapter.domain import ReferralResourceIds
from adapter.mapping import referral_to_fhir
from adapter.native.referral_schema import load_referral
from adapter.search.definitions import default_registry
from adapter.search.extract import extract
from adapter.store import Store
from adapter.store.tables import (
    resource,
    resource_version,
    search_date,
    search_reference,
    search_string,
    search_token,
)

ROOT = Path(__file__).resolve().parents[2]
REFERRAL_FILE = ROOT / "fixtures" / "native" / "referrals" / "adult-custody-telford.json"
TEMPLATE_NHS = "9990012342"
BATCH = 2_000


def nhs_number(index: int) -> str:
    """The NHS number of the index-th loaded person (10 digits, distinct per index)."""
    return str(8_000_000_000 + index)


def _template() -> list[tuple[dict, object]]:
    referral = load_referral(orjson.loads(REFERRAL_FILE.read_bytes()))
    ids = ReferralResourceIds("PID", "SRID", "ENCID", [], None)
    mapped = referral_to_fhir(replace(referral, consents=()), ids)
    registry = default_registry()
    return [
        (r, extract(r, registry))
        for r in (mapped.patient, mapped.service_request, mapped.encounter)
    ]


def _ids(index: int) -> dict[str, str]:
    return {"PID": f"p{index:07d}", "SRID": f"s{index:07d}", "ENCID": f"e{index:07d}"}


def _swap(text: str, ids: dict[str, str], nhs: str) -> str:
    for placeholder, value in ids.items():
        text = text.replace(placeholder, value)
    return text.replace(TEMPLATE_NHS, nhs)


def _rows(template: list, index: int, when: datetime) -> dict[sa.Table, list[dict]]:
    ids = _ids(index)
    nhs = nhs_number(index)
    rows: dict[sa.Table, list[dict]] = {
        t: [] for t in (resource, search_token, search_string, search_date, search_reference)
    }
    for fhir, entries in template:
        rid = ids[fhir["id"]]
        meta = {**fhir.get("meta", {}), "versionId": "1", "lastUpdated": when.isoformat()}
        content = _swap(orjson.dumps({**fhir, "meta": meta}).decode(), ids, nhs)
        key = {"resource_type": fhir["resourceType"], "resource_id": rid}
        rows[resource].append(
            {
                "resource_type": fhir["resourceType"],
                "id": rid,
                "version": 1,
                "last_updated": when,
                "content": content,
            }
        )
        rows[search_token] += [
            {**key, "param": p, "system": s, "code": nhs if c == TEMPLATE_NHS else c}
            for p, s, c in entries.tokens
        ]
        rows[search_string] += [{**key, "param": p, "value": v} for p, v in entries.strings]
        rows[search_date] += [
            {**key, "param": p, "low": lo, "high": hi} for p, lo, hi in entries.dates
        ]
        rows[search_reference] += [
            {**key, "param": p, "target_type": t, "target_id": ids.get(i, i)}
            for p, t, i in entries.references
        ]
    return rows


def load(store: Store, start: int, stop: int) -> None:
    """Store referrals start..stop-1 (Patient, ServiceRequest, Encounter each), then ANALYZE."""
    template = _template()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for first in range(start, stop, BATCH):
        batch: dict[sa.Table, list[dict]] = {}
        for index in range(first, min(first + BATCH, stop)):
            for table, rows in _rows(template, index, base + timedelta(seconds=index)).items():
                batch.setdefault(table, []).extend(rows)
        batch[resource_version] = batch[resource]
        with store.engine.begin() as connection:
            for table, rows in batch.items():
                if not rows:
                    continue
                if connection.dialect.name == "postgresql":
                    _copy(connection, table, rows)
                else:
                    connection.execute(table.insert(), rows)
    analyze(store)


def _copy(connection: sa.Connection, table: sa.Table, rows: list[dict]) -> None:
    """PostgreSQL COPY: an order of magnitude faster than INSERTs for bulk rows."""
    columns = list(rows[0])
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def analyze(store: Store) -> None:
    """Fresh planner statistics (this machine's PostgreSQL runs with autovacuum off)."""
    with store.engine.connect() as connection:
        connection.execute(sa.text("ANALYZE"))
        connection.commit()
