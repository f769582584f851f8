"""`ld-adapter serve` logs each attempt of its in-process delivery loop as one JSON line."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import requests

from adapter.settings import Settings
from adapter.store import Store
from tests.support.outbox import ENDPOINT_ID, endpoint, message
from tests.support.partner_server import PartnerServer
from tests.support.served import served_adapter


def test_serve_logs_and_counts_each_delivery_naming_message_endpoint_status_and_attempt(
    tmp_path: Path,
) -> None:
    with PartnerServer() as partner:
        store = Store.from_url(Settings(home=tmp_path).database_url)
        store.migrate()
        queued = message()
        with store.unit_of_work() as uow:
            uow.resources.create(endpoint(partner.base))
            uow.outbox.add(queued)
        store.dispose()
        settings = {"LD_ADAPTER_WORKERS": "1", "LD_ADAPTER_DELIVERY_POLL_INTERVAL": "0.2"}
        with served_adapter(tmp_path, settings) as served:
            partner.wait_for(1)
            line = f"message {queued.id} to endpoint {ENDPOINT_ID}: delivered 200 (attempt 1)"
            deadline = time.monotonic() + 10
            while line not in served.log.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)
            log = served.log.read_text()
            metrics = requests.get(f"{served.base}/metrics", timeout=10).text
    assert line in log, log
    logged = orjson.loads(next(entry for entry in log.splitlines() if line in entry))
    assert (logged["level"], logged["logger"]) == ("INFO", "adapter.exchange.worker")
    assert logged["time"]
    assert logged["event"] == "delivery"
    assert (logged["message_id"], logged["endpoint_id"]) == (queued.id, ENDPOINT_ID)
    assert (logged["status"], logged["status_code"], logged["attempt"]) == ("delivered", 200, 1)
    assert (logged["request_id"], logged["correlation_id"]) == (
        queued.request_id,
        queued.correlation_id,
    )
    assert logged["duration_ms"] >= 0
    assert f'ld_adapter_messages_sent_total{{endpoint="{ENDPOINT_ID}"}} 1.0' in metrics
