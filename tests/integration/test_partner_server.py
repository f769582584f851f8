"""The test partner behaves like a BaRS receiver and fails when told: other tests rely on it."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.partner_server import PartnerServer

MESSAGE = {"resourceType": "Bundle", "type": "message", "entry": []}


def _post(partner: PartnerServer, request_id: str, timeout: float = 5.0) -> requests.Response:
    headers = {"X-Request-Id": request_id, "X-Correlation-Id": str(uuid.uuid4())}
    return requests.post(
        f"{partner.base}/$process-message", json=MESSAGE, headers=headers, timeout=timeout
    )


def test_accepts_once_and_answers_a_replay_with_409_duplicate() -> None:
    with PartnerServer() as partner:
        request_id = str(uuid.uuid4())
        assert _post(partner, request_id).status_code == 200
        replay = _post(partner, request_id)
        assert replay.status_code == 409
        assert replay.json()["issue"][0]["code"] == "duplicate"
        assert partner.accepted_request_ids() == {request_id: 1}
        assert replay.headers["X-Request-Id"] == request_id


def test_refuses_ids_that_are_not_guids() -> None:
    with PartnerServer() as partner:
        assert _post(partner, "not-a-guid").status_code == 400
        assert partner.received == []


def test_fails_the_next_messages_as_told_then_accepts() -> None:
    with PartnerServer() as partner:
        partner.fail(503, times=2, retry_after=7)
        request_id = str(uuid.uuid4())
        first, second = _post(partner, request_id), _post(partner, request_id)
        assert (first.status_code, first.headers["Retry-After"]) == (503, "7")
        assert second.status_code == 503
        assert _post(partner, request_id).status_code == 200
        assert partner.requests_by_id()[request_id] == 3


def test_a_stalled_answer_times_the_client_out() -> None:
    with PartnerServer() as partner:
        partner.stall(1.0)
        with pytest.raises(requests.Timeout):
            _post(partner, str(uuid.uuid4()), timeout=0.3)


def test_stopped_partner_refuses_connections_and_comes_back_on_the_same_port() -> None:
    partner = PartnerServer().start()
    try:
        session = requests.Session()  # a kept-alive connection must not survive the stop
        headers = {"X-Request-Id": str(uuid.uuid4()), "X-Correlation-Id": str(uuid.uuid4())}
        url = f"{partner.base}/$process-message"
        assert session.post(url, json=MESSAGE, headers=headers, timeout=5).status_code == 200
        partner.stop()
        with pytest.raises(requests.ConnectionError):
            session.post(url, json=MESSAGE, headers=headers, timeout=5)
        partner.start()
        assert session.post(url, json=MESSAGE, headers=headers, timeout=5).status_code == 409
    finally:
        partner.stop()
