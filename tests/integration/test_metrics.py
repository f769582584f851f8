"""/metrics: requests by route template, the outbox read at scrape time, inbound and validations."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from adapter import create_app
from adapter.settings import Settings
from tests.support.outbox import message


def scrape(client) -> dict[tuple[str, frozenset], float]:  # type: ignore[no-untyped-def]
    """Every sample /metrics shows, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    """One sample's value (0 when it is not there yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_and_timed_by_route_template_not_path(client, auth) -> None:
    route = {"method": "GET", "route": "/api/referrals/<record_id>", "status": "404"}
    before = scrape(client)
    for record in ("Jane-Smith-1", "Jane-Smith-2"):
        assert client.get(f"/api/referrals/{record}", headers=auth).status_code == 404
    after = scrape(client)
    total = "ld_adapter_http_requests_total"
    assert value(after, total, **route) - value(before, total, **route) == 2
    timed = "ld_adapter_http_request_duration_seconds_count"
    assert value(after, timed, **route) - value(before, timed, **route) == 2
    assert "Jane-Smith" not in client.get("/metrics").get_data(as_text=True)


def test_a_path_matching_no_route_is_one_label_whatever_was_sent(client, auth) -> None:
    before = scrape(client)
    assert client.get("/Jane-Smith/no-such-page", headers=auth).status_code == 404
    after = scrape(client)
    labels = {"method": "GET", "route": "(unmatched)", "status": "404"}
    assert (
        value(after, "ld_adapter_http_requests_total", **labels)
        - value(before, "ld_adapter_http_requests_total", **labels)
        == 1
    )


def test_queue_depth_and_oldest_waiting_age_are_read_from_the_outbox(app: Flask, client) -> None:
    store = app.extensions["ld_adapter"].store
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    with store.unit_of_work() as uow:
        uow.outbox.add(dataclasses.replace(message(), created_at=an_hour_ago))
        uow.outbox.add(message())
        uow.outbox.add(dataclasses.replace(message(), status="dead-letter"))
    samples = scrape(client)
    assert value(samples, "ld_adapter_outbox_messages", status="queued") == 2
    assert value(samples, "ld_adapter_outbox_messages", status="retrying") == 0
    assert value(samples, "ld_adapter_outbox_messages", status="dead-letter") == 1
    assert 3590 < value(samples, "ld_adapter_outbox_oldest_waiting_seconds") < 3700


def test_an_empty_outbox_has_no_waiting_age(client) -> None:
    samples = scrape(client)
    assert value(samples, "ld_adapter_outbox_messages", status="queued") == 0
    assert value(samples, "ld_adapter_outbox_oldest_waiting_seconds") == 0


def test_a_rejected_inbound_message_is_counted_by_its_issue_code(client, auth) -> None:
    labels = {"outcome": "rejected", "reason": "required"}
    before = scrape(client)
    response = client.post("/fhir/$process-message", headers=auth, json={})
    assert response.status_code == 400
    after = scrape(client)
    name = "ld_adapter_inbound_messages_total"
    assert value(after, name, **labels) - value(before, name, **labels) == 1


def test_validations_are_counted_by_outcome(client, auth) -> None:
    before = scrape(client)
    valid = {"resourceType": "Basic", "code": {"text": "a note"}}
    invalid = {"resourceType": "Basic"}  # Basic.code is required
    for resource in (valid, invalid, invalid):
        response = client.post(
            "/fhir/$validate",
            headers={**auth, "Content-Type": "application/fhir+json"},
            json=resource,
        )
        assert response.status_code == 200
    after = scrape(client)
    name = "ld_adapter_validations_total"
    assert value(after, name, outcome="valid") - value(before, name, outcome="valid") == 1
    assert value(after, name, outcome="invalid") - value(before, name, outcome="invalid") == 2


def test_metrics_can_be_closed_to_callers_without_a_token(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, metrics_open=False))
    try:
        client = app.test_client()
        assert client.get("/metrics").status_code == 401
        from adapter.auth import mint_dev_token

        token = mint_dev_token(settings, ["system/Bundle.r"])
        answer = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
        assert b"ld_adapter_outbox_messages" in answer.data
    finally:
        app.extensions["ld_adapter"].store.dispose()


def test_readyz_is_503_when_this_process_delivery_loop_has_stopped(client) -> None:
    import threading

    from adapter.observe import heartbeat

    ended = threading.Thread(target=lambda: None)
    ended.start()
    ended.join()
    heartbeat.register_loop(ended)
    try:
        response = client.get("/readyz")
    finally:
        heartbeat._LOOP.clear()
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "database": "ok",
        "delivery": "stopped",
        "workers": "ok",
    }
    assert client.get("/readyz").status_code == 200


def test_readyz_is_503_when_this_process_delivery_loop_no_longer_beats(app, client) -> None:  # type: ignore[no-untyped-def]
    import threading

    from adapter.observe import heartbeat

    store = app.extensions["ld_adapter"].store
    with store.unit_of_work() as uow:
        uow.monitoring.beat("this-loop", datetime.now(UTC) - timedelta(hours=1))
    running = threading.Event()
    alive = threading.Thread(target=running.wait)
    alive.start()
    heartbeat.register_loop(alive, "this-loop")
    try:
        hung = client.get("/readyz")
        with store.unit_of_work() as uow:
            uow.monitoring.beat("this-loop", datetime.now(UTC))
        beating = client.get("/readyz")
    finally:
        running.set()
        heartbeat._LOOP.clear()
    assert (hung.status_code, hung.get_json()["delivery"]) == (503, "not claiming")
    assert (beating.status_code, beating.get_json()["delivery"]) == (200, "ok")


def test_stale_workers_elsewhere_are_reported_and_counted_not_made_unready(app, client) -> None:  # type: ignore[no-untyped-def]
    store = app.extensions["ld_adapter"].store
    long_due = datetime.now(UTC) - timedelta(hours=1)
    with store.unit_of_work() as uow:
        uow.outbox.add(dataclasses.replace(message(), next_attempt_at=long_due))
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "ok",
        "database": "ok",
        "delivery": "ok",
        "workers": "not claiming",
    }
    assert value(scrape(client), "ld_adapter_delivery_stalled") == 1
    with store.unit_of_work() as uow:
        uow.monitoring.beat("a-worker-elsewhere", datetime.now(UTC))
    assert client.get("/readyz").get_json()["workers"] == "ok"
    assert value(scrape(client), "ld_adapter_delivery_stalled") == 0


def test_an_unknown_http_method_is_labelled_other_never_as_sent(client, caplog) -> None:  # type: ignore[no-untyped-def]
    before = scrape(client)
    for method in ("QWERTY-JOHN-SMITH", "M12345"):
        client.open("/api/referrals", method=method)
    after = scrape(client)
    labels = {"method": "other", "route": "(unmatched)", "status": "401"}
    total = "ld_adapter_http_requests_total"
    labelled = value(after, total, **labels) - value(before, total, **labels)
    # A method Flask routes nowhere matches no rule; either way the label is "other".
    labelled += value(after, total, **{**labels, "route": "/api/referrals"}) - value(
        before, total, **{**labels, "route": "/api/referrals"}
    )
    assert labelled == 2
    exposed = client.get("/metrics").get_data(as_text=True)
    assert "JOHN-SMITH" not in exposed and "M12345" not in exposed
    assert "JOHN-SMITH" not in caplog.text
