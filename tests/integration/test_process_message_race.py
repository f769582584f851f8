"""50 identical messages at once on PostgreSQL: one effect, 49 × 409 duplicate (no served app).

The served version with 4 gunicorn workers and the real referral handler is
tests/e2e/test_inbound_races.py; this one runs a handler registered by the test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask

from adapter import create_app
from adapter.services.inbound_handlers import registered
from adapter.settings import Settings
from adapter.store.testing import clear
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)
from tests.integration.test_process_message import URL, effect_handler, effects, mint, store_of
from tests.support.inbound import OUR_ODS, message_headers, partners_with_clients, referral_message

pytestmark = pytest.mark.postgres
PARALLEL = 50


@pytest.fixture
def app_on_postgres(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Flask, Settings]]:
    settings = Settings(
        home=tmp_path,
        base_url="http://testserver",
        database_url=postgres_url,
        ods_code=OUR_ODS,
        partners_path=partners_with_clients(tmp_path),
    )
    app = create_app(settings)
    with registered("servicerequest-request", "new", effect_handler):
        yield app, settings
    clear(store_of(app))
    store_of(app).dispose()


def test_fifty_identical_messages_at_once_have_one_effect(
    app_on_postgres: tuple[Flask, Settings],
) -> None:
    app, settings = app_on_postgres
    message = referral_message()
    headers = message_headers(mint(settings))
    start = threading.Barrier(PARALLEL)

    def post(_: int) -> int:
        client = app.test_client()
        start.wait(timeout=30)
        return client.post(URL, json=message, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        statuses = sorted(pool.map(post, range(PARALLEL)))
    assert statuses == [201] + [409] * (PARALLEL - 1)
    assert effects(store_of(app), message["id"]) == 1
