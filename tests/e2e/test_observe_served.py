"""A real `ld-adapter serve`: /metrics adds up its workers, logs hold no patient data, /readyz."""

from __future__ import annotations

import dataclasses
import os
import signal
import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from adapter.settings import Settings
from adapter.store import Store
from adapter.store.testing import postgres_schema
from tests.integration.store_fixtures import POSTGRES_ENV
from tests.support.delivery_processes import start_worker, stop_workers, worker_env
from tests.support.outbox import ENDPOINT_ID, endpoint, message
from tests.support.partner_server import PartnerServer
from tests.support.served import served_adapter
from tests.support.tcp_proxy import TcpProxy

NAME = "Zebedee Quasimodo-Smythe"
NHS_NUMBER = "9990012342"


def samples(base: str) -> dict[tuple[str, frozenset], float]:
    """What /metrics shows, by sample name and labels."""
    text = requests.get(f"{base}/metrics", timeout=10).text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_add_up_every_worker_process(tmp_path: Path) -> None:
    with served_adapter(tmp_path, {"LD_ADAPTER_WORKERS": "2"}) as served:
        url = f"{served.base}/fhir/metadata"
        sent = 0
        for _ in range(10):
            assert requests.get(url, timeout=10).status_code == 200
            sent += 1
        first = _counting_processes(tmp_path)
        for worker in _children(served.pid):  # gunicorn starts new workers in their place
            os.kill(worker, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _counting_processes(tmp_path) <= first:  # until a new worker has answered
            assert time.monotonic() < deadline, "no new worker answered"
            if requests.get(url, timeout=10).status_code == 200:
                sent += 1
        found = samples(served.base)
    labels = {"method": "GET", "route": "/fhir/metadata", "status": "200"}
    assert found[("ld_adapter_http_requests_total", frozenset(labels.items()))] == sent


def _children(pid: int) -> list[int]:
    """The processes `pid` started (gunicorn's workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def _counting_processes(home: Path) -> set[str]:
    """The processes that have counted something (one file each in the multiprocess dir)."""
    return {path.stem.rsplit("_", 1)[-1] for path in (home / "metrics").glob("counter_*.db")}


def test_no_log_line_carries_patient_data_sent_in_a_path_query_or_body(tmp_path: Path) -> None:
    with served_adapter(tmp_path, {"LD_ADAPTER_WORKERS": "1"}) as served:
        auth = {"Authorization": f"Bearer {served.token('system/*.cruds')}"}
        base = served.base
        requests.get(f"{base}/api/referrals", params={"name": NAME}, headers=auth, timeout=10)
        requests.get(f"{base}/api/referrals/{NHS_NUMBER}", headers=auth, timeout=10)
        requests.get(f"{base}/fhir/Patient", params={"identifier": NHS_NUMBER}, timeout=10)
        body = {"person": {"name": NAME, "nhs_number": NHS_NUMBER, "born": "not a date"}}
        refused = requests.post(f"{base}/api/referrals", json=body, headers=auth, timeout=10)
        assert refused.status_code == 400
        hostile_ids = {"X-Request-Id": NAME, "X-Correlation-Id": NHS_NUMBER, **auth}
        requests.get(f"{base}/api/referrals", headers=hostile_ids, timeout=10)
        time.sleep(0.5)  # the last line written
    log = served.log.read_text()
    assert NAME.split()[0] not in log and NHS_NUMBER not in log, log
    lines = [orjson.loads(line) for line in log.splitlines() if line.strip()]  # every line JSON
    requests_logged = [line for line in lines if line.get("event") == "request"]
    routes = {(line["route"], line["status"]) for line in requests_logged}
    assert ("/api/referrals/<record_id>", 404) in routes
    assert ("/api/referrals", 400) in routes
    assert all(line["request_id"] and line["duration_ms"] >= 0 for line in requests_logged)


def _seed_due_message(database_url: str, partner_base: str) -> None:
    store = Store.from_url(database_url)
    overdue = datetime.now(UTC) - timedelta(minutes=5)
    with store.unit_of_work() as uow:
        uow.resources.create(endpoint(partner_base))
        uow.outbox.add(dataclasses.replace(message(), next_attempt_at=overdue))
    store.dispose()


def _ready(base: str) -> tuple[int, dict]:
    response = requests.get(f"{base}/readyz", timeout=10)
    return response.status_code, response.json()


def _wait_for(base: str, status: int, within: float = 20) -> dict:
    deadline = time.monotonic() + within
    while True:
        code, body = _ready(base)
        if code == status:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


def _wait_for_workers(base: str, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while _ready(base)[1]["workers"] != "ok":
        assert time.monotonic() < deadline, "no worker seen claiming"
        time.sleep(0.2)


def test_readyz_reports_but_stays_ready_while_no_worker_elsewhere_claims(tmp_path: Path) -> None:
    # A worker outage is a delivery alert (ld_adapter_delivery_stalled), not an API outage.
    settings = {
        "LD_ADAPTER_WORKERS": "1",
        "LD_ADAPTER_DELIVERY_IN_PROCESS": "false",
        "LD_ADAPTER_WORKER_STALE_SECONDS": "2",
    }
    database_url = Settings(home=tmp_path).database_url
    with PartnerServer() as partner, served_adapter(tmp_path, settings) as served:
        assert _ready(served.base)[0] == 200  # nothing due: no worker needed
        _seed_due_message(database_url, partner.base)
        code, body = _ready(served.base)
        assert (code, body["workers"], body["delivery"]) == (200, "not claiming", "ok")
        stalled = ("ld_adapter_delivery_stalled", frozenset())
        assert samples(served.base)[stalled] == 1
        env = worker_env(tmp_path, database_url, LD_ADAPTER_WORKER_STALE_SECONDS="2")
        worker = start_worker(env, tmp_path / "worker.log")
        try:
            _wait_for_workers(served.base)
            assert samples(served.base)[stalled] == 0
            partner.wait_for(1)
            time.sleep(0.5)  # the result recorded and counted after the partner answered
            sent = samples(served.base).get(
                ("ld_adapter_messages_sent_total", frozenset({"endpoint": ENDPOINT_ID}.items()))
            )
        finally:
            assert stop_workers([worker]) == [0]
    assert sent == 1, "the standalone worker counts into the files serve's /metrics adds up"
    worker_lines = [
        orjson.loads(line) for line in (tmp_path / "worker.log").read_text().splitlines()
    ]
    assert {"delivery", None} >= {line.get("event") for line in worker_lines}
    assert any(line.get("event") == "delivery" for line in worker_lines)


@pytest.mark.postgres
def test_readyz_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    base_url = os.environ.get(POSTGRES_ENV)
    if not base_url:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    with postgres_schema(base_url) as url:
        target = sa.make_url(url)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        through_proxy = target.set(host="127.0.0.1", port=proxy.port)
        settings = {
            "LD_ADAPTER_WORKERS": "1",
            "LD_ADAPTER_DATABASE_URL": through_proxy.render_as_string(hide_password=False),
        }
        try:
            with served_adapter(tmp_path, settings) as served:
                assert _ready(served.base) == (
                    200,
                    {"status": "ok", "database": "ok", "delivery": "ok", "workers": "ok"},
                )
                proxy.cut()
                body = _wait_for(served.base, 503)
                assert body["database"] == "unreachable"
        finally:
            proxy.close()


def _raw(base: str, head: bytes) -> None:
    """Send a request head as given (a client that forgets to percent-encode), read the answer."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head)
        conn.recv(4096)


def test_a_malformed_request_line_or_header_is_logged_without_its_text(tmp_path: Path) -> None:
    with served_adapter(tmp_path, {"LD_ADAPTER_WORKERS": "1"}) as served:
        unencoded = b"GET /fhir/Patient?family=Van Dyke&birthdate=1988-06-02 HTTP/1.1\r\n\r\n"
        _raw(served.base, unencoded)
        _raw(served.base, b"GET /fhir/Patient?family=Hartley3\x01 HTTP/1.1\r\nHost: x\r\n\r\n")
        _raw(served.base, b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Hartley5: 1\r\n\r\n")
        time.sleep(0.5)  # the last line written
    log = served.log.read_text()
    for sent in ("Dyke", "1988-06-02", "Hartley"):
        assert sent not in log, log
    refusals = [
        line["message"]
        for line in map(orjson.loads, log.splitlines())
        if line["logger"] == "gunicorn.error" and "invalid request" in line["message"]
    ]
    assert refusals == [
        "invalid request refused: Invalid HTTP Version",
        "invalid request refused: Invalid HTTP request line",
        "invalid request refused: Invalid HTTP header name",
    ], log
