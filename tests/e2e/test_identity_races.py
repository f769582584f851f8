"""Identity under real concurrency: `ld-adapter serve`, 4 gunicorn workers, PostgreSQL.

50 referrals at once for one new person or one new referrer organisation must make exactly one
Patient or Organization, and every referral must be accepted (READ COMMITTED let each worker
miss the others' uncommitted Patient and create its own).
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from adapter.domain.nhs_number import is_valid_nhs_number
from adapter.store.testing import postgres_schema
from tests.integration.store_fixtures import POSTGRES_ENV
from tests.integration.test_native_api import REFERRAL
from tests.support.served import served_adapter

pytestmark = pytest.mark.postgres
PARALLEL = 50
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
NHS = "https://fhir.nhs.uk/Id/nhs-number"


@pytest.fixture(scope="module")
def served_on_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server with 4 workers on a fresh PostgreSQL schema; its base URL and a token."""
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    home = tmp_path_factory.mktemp("home")
    with postgres_schema(base_url) as url:
        settings = {"LD_ADAPTER_DATABASE_URL": url, "LD_ADAPTER_WORKERS": "4"}
        with served_adapter(home, settings) as server:
            yield server.base, server.token()


def _nhs_numbers(prefix: int) -> Iterator[str]:
    """Valid NHS numbers (Modulus 11) starting from a nine-digit prefix."""
    for stem in range(prefix, prefix + 1000):
        for check in "0123456789":
            if is_valid_nhs_number(f"{stem}{check}"):
                yield f"{stem}{check}"


def _post_all_at_once(base: str, token: str, bodies: list[dict]) -> list[requests.Response]:
    start = threading.Barrier(len(bodies))

    def post(body: dict) -> requests.Response:
        start.wait(timeout=30)
        return requests.post(
            f"{base}/api/referrals",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


def _first_refusal(responses: list[requests.Response]) -> str:
    return next((r.text for r in responses if r.status_code != 201), "")


def _referral(test: str, index: int, **person: object) -> dict:
    body = copy.deepcopy(REFERRAL)
    body["local_id"] = f"RACE-{test}-{index}"
    body["person"].update(person)
    body["person"]["local_identifiers"] = [
        {"type": "custody-record-number", "value": f"RACE-{test}-{index}"}
    ]
    return body


def _total(base: str, token: str, query: str) -> int:
    found = requests.get(
        f"{base}/fhir/{query}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert found.status_code == 200, found.text
    return int(found.json()["total"])


def test_parallel_first_referrals_for_one_person_make_one_patient(served_on_postgres) -> None:  # type: ignore[no-untyped-def]
    base, token = served_on_postgres
    nhs_number = next(_nhs_numbers(999_100_000))
    bodies = [_referral("person", i, nhs_number=nhs_number) for i in range(PARALLEL)]

    responses = _post_all_at_once(base, token, bodies)

    assert [r.status_code for r in responses] == [201] * PARALLEL, _first_refusal(responses)
    assert len({r.json()["fhir"]["patient"] for r in responses}) == 1
    assert _total(base, token, f"Patient?identifier={NHS}|{nhs_number}") == 1


@pytest.mark.parametrize("named_by", ["ods-code", "name-only"])
def test_parallel_referrals_naming_one_new_organisation_make_one(  # type: ignore[no-untyped-def]
    served_on_postgres, named_by: str
) -> None:
    base, token = served_on_postgres
    numbers = _nhs_numbers(999_200_000 if named_by == "ods-code" else 999_300_000)
    referrer = {"name": "PC Race", "organisation_name": f"Race Constabulary {named_by}"}
    if named_by == "ods-code":
        referrer["organisation_ods"] = "RACE1"
    bodies = [
        {**_referral(named_by, i, nhs_number=next(numbers)), "referrer": referrer}
        for i in range(PARALLEL)
    ]

    before = _total(base, token, "Organization")

    responses = _post_all_at_once(base, token, bodies)

    assert [r.status_code for r in responses] == [201] * PARALLEL, _first_refusal(responses)
    assert len({r.json()["fhir"]["referrer_organization"] for r in responses}) == 1
    assert _total(base, token, "Organization") == before + 1
    if named_by == "ods-code":
        assert _total(base, token, f"Organization?identifier={ODS}|RACE1") == 1
