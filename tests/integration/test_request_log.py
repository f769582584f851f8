"""One log line per request: the route template, status, time and ids, nothing a client typed."""

from __future__ import annotations

import logging
import uuid

import orjson
import pytest

from adapter.observe.logs import JsonFormatter

NAME = "Zebedee Quasimodo"


def test_a_request_line_names_the_route_template_ids_and_client(
    client, auth, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    request_id = str(uuid.uuid4())
    headers = {**auth, "X-Request-Id": request_id, "X-Correlation-Id": NAME}
    with caplog.at_level(logging.INFO, logger="adapter.access"):
        client.get(f"/api/referrals/{NAME}?name={NAME}", headers=headers)
    (record,) = [r for r in caplog.records if r.name == "adapter.access"]
    line = orjson.loads(JsonFormatter().format(record))
    assert line["route"] == "/api/referrals/<record_id>"
    assert (line["method"], line["status"], line["event"]) == ("GET", 404, "request")
    assert line["request_id"] == request_id
    assert "correlation_id" not in line  # not a GUID: left out, not logged as sent
    assert line["client_id"] == "ld-adapter-dev"
    assert "Zebedee" not in orjson.dumps(line).decode()


def test_a_request_without_an_id_is_given_one(client, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="adapter.access"):
        client.get("/healthz")
    (record,) = [r for r in caplog.records if r.name == "adapter.access"]
    assert uuid.UUID(record.request_id)
