"""Referral intake: native → FHIR mapping, and POST /api/referrals end to end on SQLite."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import requests
from fhir.resources.R4B.bundle import Bundle

from adapter.domain import Referral, ReferralResourceIds
from adapter.mapping import referral_bundle, referral_to_fhir
from adapter.native.referral_schema import load_referral
from tests.support.served import served_adapter

ROOT = Path(__file__).resolve().parents[2]
REFERRAL_FILE = ROOT / "fixtures" / "native" / "referrals" / "adult-custody-telford.json"
Median = Callable[[Callable[[], object], int], float]


PERFORMER = "HealthcareService/mpft-ld-shropshire-telford"


def sample_ids(referral: Referral) -> ReferralResourceIds:
    """Fixed resource ids for mapping the sample referral."""
    return ReferralResourceIds(
        patient="p1",
        service_request="sr1",
        encounter="e1",
        consents=[f"c{i}" for i in range(len(referral.consents))],
        referrer_organization="o1",
    )


def mapping_section(median: Median) -> list[str]:
    """Mapping one referral vs fhir.resources parsing the Bundle it makes."""
    payload = orjson.loads(REFERRAL_FILE.read_bytes())
    referral = load_referral(payload)
    ids = sample_ids(referral)
    bundle_bytes = orjson.dumps(
        referral_bundle(referral_to_fhir(referral, ids, performer=PERFORMER), "http://x/fhir")
    )

    def map_only() -> object:
        return referral_to_fhir(referral, ids, performer=PERFORMER)

    def load_and_map() -> object:
        return referral_to_fhir(load_referral(payload), ids, performer=PERFORMER)

    map_time = median(map_only, 5000)
    full_time = median(load_and_map, 3000)
    parse_time = median(lambda: Bundle.model_validate_json(bundle_bytes), 500)
    return [
        "## Referral mapping (native → FHIR R4), one core",
        "",
        f"Input: `{REFERRAL_FILE.relative_to(ROOT)}`; the Bundle it makes is {len(bundle_bytes):,} bytes.",
        "",
        "| measure | median | per second | target |",
        "| --- | --- | --- | --- |",
        f"| `referral_to_fhir` (domain → FHIR dicts) | {map_time * 1e6:.0f} µs | {1 / map_time:,.0f} | ≥ 1,000/s |",
        f"| `load_referral` + `referral_to_fhir` (JSON dict → FHIR dicts) | {full_time * 1e6:.0f} µs | {1 / full_time:,.0f} | ≥ 1,000/s |",
        f"| fhir.resources R4B `Bundle.model_validate_json` of the output | {parse_time * 1e6:.0f} µs | {1 / parse_time:,.0f} | (reference) |",
        "",
        f"Ratio mapping / parsing: {full_time / parse_time:.2f}× with schema loading, "
        f"{map_time / parse_time:.2f}× for the mapping alone (target ≤ 2×).",
        "",
    ]


def other_core() -> None:
    """Move this process (a served adapter's, via preexec_fn) to the last core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0) | set(range(os.cpu_count() or 1)))})


def post_section(median: Median) -> list[str]:
    """POST /api/referrals against a real server (gunicorn, 1 worker, SQLite)."""
    payload = orjson.loads(REFERRAL_FILE.read_bytes())
    with (
        tempfile.TemporaryDirectory() as home,
        served_adapter(Path(home), {"LD_ADAPTER_WORKERS": "1"}, preexec_fn=other_core) as server,
    ):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {server.token()}"
        counter = iter(range(10**9))

        def post_one() -> None:
            body = {**payload, "local_id": f"BENCH-{next(counter)}"}
            response = session.post(f"{server.base}/api/referrals", json=body, timeout=10)
            assert response.status_code == 201, response.text

        latency = median(post_one, 400)
        started = time.perf_counter()
        for _ in range(200):
            post_one()
        throughput = 200 / (time.perf_counter() - started)
    return [
        "## POST /api/referrals end to end (SQLite)",
        "",
        "gunicorn with one worker on one core, client on the other, sequential requests over HTTP/1.1 "
        "keep-alive; each request checks the native payload, maps it, validates the FHIR it makes "
        "against our profiles, matches the person and writes the referral and its FHIR resources "
        "(with search indexes and history) in one transaction.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| median latency | {latency * 1e3:.1f} ms |",
        f"| sequential throughput | {throughput:,.0f} referrals/s |",
        "",
    ]


SECTIONS = [mapping_section, post_section]
