"""On SQLite a referral is checked, mapped and validated before it queues for the write lock."""

from __future__ import annotations

import threading
import time

import pytest

from adapter.settings import Settings
from tests.integration.test_native_api import post, referral


@pytest.fixture
def settings(tmp_path) -> Settings:  # type: ignore[no-untyped-def]
    """Audit off: its AuditEvent for the refusal is a write and rightly queues for the lock."""
    return Settings(home=tmp_path, base_url="http://testserver", audit=False)


def test_a_bad_referral_is_answered_while_another_holds_the_write_lock(app, client, auth):  # type: ignore[no-untyped-def]
    store = app.extensions["ld_adapter"].store
    answered: dict = {}

    def post_unknown_site() -> None:
        started = time.monotonic()
        response = post(client, auth, referral(site="no-such-custody-suite"))
        answered.update(status=response.status_code, seconds=time.monotonic() - started)

    with store.unit_of_work() as holder:  # a long write (another worker's) holds the lock
        holder.resources.create({"resourceType": "Patient", "id": "busy"})
        poster = threading.Thread(target=post_unknown_site)
        poster.start()
        poster.join(timeout=5)
        assert not poster.is_alive(), "the bad referral waited for the write lock"
    assert answered["status"] == 400
