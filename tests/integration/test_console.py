"""The operations console: sign-in, roles, CSRF, overview, messages (masked), actions, validator."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from adapter.exchange.model import DEAD_LETTER, QUEUED, Rejected
from adapter.exchange.outcomes import record_result
from adapter.settings import Settings
from adapter.store import Store
from tests.integration.test_audit import audits, client_of, references, summary
from tests.support.console import csrf_token, link_path, post_form, sign_in, use_link
from tests.support.outbox import endpoint, message

NAMED = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "invalid",
            "diagnostics": "No patient Jo Bloggs born 1990-01-01",
            "expression": ["Patient.name"],
        }
    ],
}


def store_of(app: Flask) -> Store:
    return app.extensions["ld_adapter"].store


def dead_letter(app: Flask, **changes: object) -> str:
    """A message to the test partner that the partner refused: dead-lettered after one attempt."""
    store = store_of(app)
    queued = message(**changes)
    body = queued.body
    body["entry"][1]["resource"].update(
        name=[{"family": "Bloggs", "given": ["Jo"]}],
        birthDate="1990-01-01",
        identifier=[{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9434765919"}],
    )
    with store.unit_of_work() as uow:
        if uow.resources.read("Endpoint", "partner-endpoint") is None:
            uow.resources.create({**endpoint("http://127.0.0.1:9/fhir"), "name": "Test GP"})
        uow.outbox.add(queued)
    now = datetime.now(UTC)
    with store.unit_of_work() as uow:
        (claimed,) = uow.outbox.claim("w", now, now + timedelta(minutes=1), 1)
        rejected = Rejected("HTTP 422", 422, NAMED)
        assert record_result(uow, claimed, rejected, "w", now, 0)
    return queued.id


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_no_console_page_opens_without_signing_in_not_even_with_a_bearer_token(
    client: FlaskClient, auth: dict
) -> None:
    for path in ("/console/", "/console/messages", "/console/validate", "/console/partners"):
        response = client.get(path, headers=auth)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/console/sign-in")


def test_console_without_its_slash_leads_to_sign_in_then_to_the_overview(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    signed_out = client.get("/console")
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"].startswith("/console/sign-in")
    assert "Bearer" not in signed_out.headers.get("WWW-Authenticate", "")
    sign_in(client, store_of(app), settings)
    signed_in = client.get("/console", follow_redirects=True)
    assert signed_in.status_code == 200
    assert signed_in.request.path == "/console/"


def test_the_api_does_not_accept_the_console_cookie(client: FlaskClient, app, settings) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, store_of(app), settings)
    assert client.get("/console/").status_code == 200
    assert client.get("/api/messages").status_code == 401
    assert client.get("/fhir/Patient").status_code == 401


def test_a_sign_in_link_works_once(client: FlaskClient, app, settings) -> None:  # type: ignore[no-untyped-def]
    path = link_path(store_of(app), settings, "operator")
    assert client.get(path).status_code == 200  # looking at the link does not use it
    assert use_link(client, path).status_code == 302
    again = use_link(app.test_client(), path)
    assert again.status_code == 403
    assert "used or has expired" in again.get_data(as_text=True)


def test_an_unknown_or_expired_link_is_refused(app, settings) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from adapter.services.console_links import create_link, use_link

    url = create_link(store_of(app), replace(settings, console_link_seconds=1), "operator", "A")
    token = url.split("token=", 1)[1]
    assert use_link(store_of(app), "not-a-link") is None
    from sqlalchemy import update

    from adapter.store.tables import console_link

    with store_of(app).engine.begin() as connection:
        connection.execute(update(console_link).values(expires_at=datetime.now(UTC)))
    assert use_link(store_of(app), token) is None


def test_a_form_without_its_csrf_token_is_refused(client: FlaskClient, app, settings) -> None:  # type: ignore[no-untyped-def]
    path = link_path(store_of(app), settings, "operator")
    assert use_link(client, path, csrf="").status_code == 400
    assert use_link(client, path, csrf="forged").status_code == 400
    sign_in(client, store_of(app), settings)
    sent = dead_letter(app)
    refused = client.post(f"/console/messages/{sent}/replay")
    assert refused.status_code == 400
    assert "did not come from this console" in refused.get_data(as_text=True)


def test_a_forged_post_against_a_signed_in_user_is_audited_as_that_user(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, store_of(app), settings, "auditor")
    sent = dead_letter(app)
    assert client.post(f"/console/messages/{sent}/replay").status_code == 400
    refused = audits(app)[-1]
    assert summary(refused)[1:] == ("U", "4")
    assert "console auditor" in client_of(refused)["who"]["identifier"]["value"]


def test_cookies_are_httponly_samesite_lax_and_secure_on_https(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from adapter import create_app

    settings = Settings(home=tmp_path, base_url="https://adapter.example")
    app = create_app(settings)
    client = app.test_client()
    client.get(link_path(store_of(app), settings, "operator"), base_url="https://adapter.example")
    cookie = client.get_cookie("ld_console", domain="adapter.example")
    assert cookie is not None and cookie.secure and cookie.http_only
    assert cookie.same_site == "Lax"
    store_of(app).dispose()


def test_a_session_ends_after_its_lifetime(client: FlaskClient, app, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import adapter.console.session as session_module

    sign_in(client, store_of(app), settings)
    assert client.get("/console/").status_code == 200
    later = session_module.time.time() + settings.console_session_seconds + 1
    monkeypatch.setattr(session_module.time, "time", lambda: later)
    assert client.get("/console/").status_code == 302


def test_a_cookie_copied_before_signing_out_is_refused_after(app, settings) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    sign_in(client, store_of(app), settings, role="auditor")
    copied = client.get_cookie("ld_console")
    assert copied is not None
    signed_out = post_form(client, "/console/", "/console/sign-out")
    assert signed_out.status_code == 302
    other = app.test_client()
    other.set_cookie("ld_console", copied.value)
    refused = other.get("/console/")
    assert refused.status_code == 302 and "/console/sign-in" in refused.headers["Location"]


def test_the_overview_shows_the_failing_partner_first(client: FlaskClient, app, settings) -> None:  # type: ignore[no-untyped-def]
    dead_letter(app)
    with store_of(app).unit_of_work() as uow:
        uow.outbox.add(message(ordering_key="other"))
    sign_in(client, store_of(app), settings)
    html = page(client, "/console/")
    row = re.search(r'<tr data-partner="partner-endpoint">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="n[^"]*">(?:<a [^>]*>)?(\d+)', row.group(1))
    assert cells[:3] == ["1", "0", "1"]  # queued, retrying, dead letters
    assert "Test GP" in row.group(1) and "needs a look" in row.group(1)


def test_refused_inbound_messages_are_counted(client: FlaskClient, app, settings, auth) -> None:  # type: ignore[no-untyped-def]
    client.post("/fhir/$process-message", json={}, headers=auth)
    sign_in(client, store_of(app), settings)
    html = page(client, "/console/")
    last_hour = re.search(r"Last hour</th><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>", html)
    assert last_hour is not None and last_hour.groups() == ("0", "1")


def test_a_request_without_a_token_is_not_counted_as_a_refused_message(  # type: ignore[no-untyped-def]
    client: FlaskClient, app, settings
) -> None:
    for _ in range(3):
        assert client.post("/fhir/$process-message", json={}).status_code == 401
    sign_in(client, store_of(app), settings)
    html = page(client, "/console/")
    last_hour = re.search(r"Last hour</th><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td>", html)
    assert last_hour is not None and last_hour.groups() == ("0", "0")


def test_the_message_page_masks_the_person_and_shows_each_attempt(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    sent = dead_letter(app)
    sign_in(client, store_of(app), settings)
    html = page(client, f"/console/messages/{sent}")
    for detail in ("Bloggs", "9434765919", "1990-01-01", "Jo Bloggs"):
        assert detail not in html
    assert "•••" in html and "https://fhir.nhs.uk/Id/nhs-number" in html
    attempts = re.search(r'<table id="attempts">(.*?)</table>', html, re.S)
    assert (
        attempts is not None and "dead-letter" in attempts.group(1) and "422" in attempts.group(1)
    )


def test_an_operator_may_not_reveal_an_auditor_may_and_it_is_audited(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    sent = dead_letter(app)
    sign_in(client, store_of(app), settings, "operator")
    page_path = f"/console/messages/{sent}"
    refused = post_form(client, page_path, f"{page_path}/reveal")
    assert refused.status_code == 403
    auditor = app.test_client()
    sign_in(auditor, store_of(app), settings, "auditor")
    shown = post_form(auditor, page_path, f"{page_path}/reveal")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "Bloggs" in html and "9434765919" in html and "No patient Jo Bloggs" in html
    reveal = audits(app)[-1]
    assert summary(reveal) == ("read", "R", "0")
    assert "Patient/p1" in references(reveal)
    assert "console auditor" in client_of(reveal)["who"]["identifier"]["value"]
    what = [e["what"].get("identifier", {}).get("value") for e in reveal["entity"]]
    assert sent in what


def _queued_response(app: Flask) -> str:
    """A response message (as adapter/exchange/response.py makes): the person by NHS number only."""
    queued = message()
    nhs_number = {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990037027"}
    queued.body["entry"][1]["resource"] = {
        "resourceType": "Task",
        "id": "t1",
        "status": "rejected",
        "for": {"identifier": nhs_number, "display": "Daniel Hartley"},
    }
    with store_of(app).unit_of_work() as uow:
        if uow.resources.read("Endpoint", "partner-endpoint") is None:
            uow.resources.create({**endpoint("http://127.0.0.1:9/fhir"), "name": "Test GP"})
        uow.outbox.add(queued)
    return queued.id


def test_a_response_is_masked_and_its_reveal_names_the_person_by_nhs_number(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    sent = _queued_response(app)
    sign_in(client, store_of(app), settings, "operator")
    masked = page(client, f"/console/messages/{sent}")
    assert "9990037027" not in masked and "Hartley" not in masked
    viewed = audits(app)[-1]
    # What the page is about, not every partner Endpoint it names.
    assert not any(r.startswith("Endpoint/") for r in references(viewed)), viewed["entity"]
    page(client, "/console/")
    assert not any(r.startswith("Endpoint/") for r in references(audits(app)[-1]))
    auditor = app.test_client()
    sign_in(auditor, store_of(app), settings, "auditor")
    page_path = f"/console/messages/{sent}"
    shown = post_form(auditor, page_path, f"{page_path}/reveal")
    assert "9990037027" in shown.get_data(as_text=True)
    reveal = audits(app)[-1]
    people = [e["what"] for e in reveal["entity"] if e["role"]["code"] == "1"]
    assert people == [
        {"identifier": {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9990037027"}}
    ]
    assert reveal["purposeOfEvent"][0]["coding"][0]["code"] == "HCOMPL"
    assert "purposeOfEvent" not in viewed
    assert "read, health compliance" in page(auditor, "/console/audit")


def test_an_operator_replays_a_dead_letter_after_confirming(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    sent = dead_letter(app)
    sign_in(client, store_of(app), settings)
    confirm = f"/console/messages/{sent}/replay"
    assert "Yes, replay it" in page(client, confirm)
    done = post_form(client, confirm, confirm)
    assert done.status_code == 302
    with store_of(app).unit_of_work(read_only=True) as uow:
        assert uow.outbox.get(sent).status == QUEUED  # type: ignore[union-attr]
    assert summary(audits(app)[-1]) == ("update", "U", "0")
    again = post_form(client, f"/console/messages/{sent}", confirm)
    assert again.status_code == 409


def test_cancelling_a_waiting_response_withdraws_it(client: FlaskClient, app, settings) -> None:  # type: ignore[no-untyped-def]
    waiting = message(kind="response", onward_referral_id=None)
    with store_of(app).unit_of_work() as uow:
        uow.outbox.add(waiting)
    sign_in(client, store_of(app), settings)
    path = f"/console/messages/{waiting.id}/cancel"
    assert post_form(client, path, path).status_code == 302
    assert "cancelled" in page(client, f"/console/messages/{waiting.id}")
    assert post_form(client, path, path).status_code == 409  # nothing waits any more


def test_an_auditor_may_not_replay(client: FlaskClient, app, settings) -> None:  # type: ignore[no-untyped-def]
    sent = dead_letter(app)
    sign_in(client, store_of(app), settings, "auditor")
    assert client.get(f"/console/messages/{sent}/replay").status_code == 403
    with store_of(app).unit_of_work(read_only=True) as uow:
        assert uow.outbox.get(sent).status == DEAD_LETTER  # type: ignore[union-attr]


def test_the_list_filters_by_partner_and_status_and_names_a_bad_filter(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    sent = dead_letter(app)
    with store_of(app).unit_of_work() as uow:
        other = uow.outbox.add(message(ordering_key="x", endpoint_id="elsewhere"))
    sign_in(client, store_of(app), settings)
    html = page(client, "/console/messages?status=dead-letter&partner=partner-endpoint")
    assert sent in html and other.id not in html
    bad = client.get("/console/messages?from=yesterday")
    assert bad.status_code == 400 and "from must be a date" in bad.get_data(as_text=True)
    odd = client.get("/console/messages?page=%C2%B2")  # "²" passes str.isdigit(), not int()
    assert odd.status_code == 400 and "page must be a whole number" in odd.get_data(as_text=True)


def test_the_inbound_list_filters_by_partner_service_and_days(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    from adapter.store import InboundMessageRecord

    def received(record_id: str, service: str, day: int) -> None:
        with store_of(app).unit_of_work() as uow:
            uow.inbound.add(
                InboundMessageRecord(
                    id=record_id,
                    request_id=f"req-{record_id}",
                    correlation_id="8f1a3c2e-0000-4000-8000-000000000001",
                    bundle_id=f"b-{record_id}",
                    event="servicerequest-request",
                    reason="new",
                    partner_service=service,
                    sender_endpoint="https://partner.example/fhir",
                    received_at=datetime(2026, 11, day, 12, tzinfo=UTC),
                )
            )

    received("in-crisis-20th", "hs-crisis", 20)
    received("in-other-25th", "hs-other", 25)
    sign_in(client, store_of(app), settings)
    listed = "/console/messages?direction=inbound"
    by_partner = page(client, f"{listed}&partner=hs-crisis")
    assert "in-crisis-20th" in by_partner and "in-other-25th" not in by_partner
    later = page(client, f"{listed}&from=2026-11-21")
    assert "in-other-25th" in later and "in-crisis-20th" not in later
    up_to_the_20th = page(client, f"{listed}&to=2026-11-20")  # the whole day named
    assert "in-crisis-20th" in up_to_the_20th and "in-other-25th" not in up_to_the_20th


def test_the_validator_lists_issues_and_marks_their_lines(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, store_of(app), settings)
    broken = '{"resourceType": "Patient", "gender": "x", "birthDate": "1990-13-01"}'
    response = post_form(client, "/console/validate", "/console/validate", payload=broken)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Patient.birthDate" in html and "Patient.gender" in html
    marked = re.findall(r'<li id="line-(\d+)" class="marked"', html)
    assert marked == ["3", "4"]  # gender and birthDate
    nonsense = post_form(client, "/console/validate", "/console/validate", payload="{not json")
    assert "The payload" in nonsense.get_data(as_text=True)


def test_an_upload_over_the_limit_is_a_console_page_saying_the_limit(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, store_of(app), settings)
    limit = f"{settings.max_body_bytes:,}"
    assert limit in page(client, "/console/validate")  # the form says it before anyone tries
    token = csrf_token(client, "/console/validate")
    big = b"{" + b" " * (settings.max_body_bytes + 10) + b"}"
    body = (
        (  # built here: the test client's own encoding spools to an unclosed temporary file
            f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--b\r\nContent-Disposition: form-data; name="upload"; filename="big.json"\r\n'
            "Content-Type: application/json\r\n\r\n"
        ).encode()
        + big
        + b"\r\n--b--\r\n"
    )
    refused = client.post(
        "/console/validate", data=body, content_type="multipart/form-data; boundary=b"
    )
    assert refused.status_code == 413 and refused.content_type.startswith("text/html")
    html = refused.get_data(as_text=True)
    assert limit in html and "ld-adapter validate" in html and 'href="/console/' in html


def test_the_partners_page_shows_the_auth_type_never_a_secret(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    dead_letter(app)
    sign_in(client, store_of(app), settings)
    html = page(client, "/console/partners")
    assert "Test GP" in html and "http://127.0.0.1:9/fhir" in html and "hl7-fhir-msg" in html


def test_console_link_is_refused_in_production(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from adapter.cli import main

    env = {
        "LD_ADAPTER_HOME": str(tmp_path),
        "LD_ADAPTER_ENVIRONMENT": "production",
        "LD_ADAPTER_CONSOLE_SECRET_KEY": "k" * 40,
    }
    result = CliRunner().invoke(main, ["console-link"], env=env)
    assert result.exit_code == 1 and "for development" in result.output
    made = CliRunner().invoke(
        main,
        ["console-link", "--role", "auditor"],
        env={**env, "LD_ADAPTER_ENVIRONMENT": "development"},
    )
    assert made.exit_code == 0 and "/console/link?token=" in made.output


@pytest.mark.parametrize("key", ["", "short"])
def test_production_needs_a_console_secret_key(key: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from adapter.settings import SettingsError

    with pytest.raises(SettingsError, match="CONSOLE_SECRET_KEY"):
        Settings(home=tmp_path, environment="production", console_secret_key=key)


def test_only_an_auditor_reads_the_audit_log_and_it_names_the_console_user(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, store_of(app), settings, "operator")
    assert client.get("/console/audit").status_code == 403
    auditor = app.test_client()
    sign_in(auditor, store_of(app), settings, "auditor")
    html = page(auditor, "/console/audit")
    assert "console operator dev-link:Sam Operator" in html  # the operator's refused attempt
    assert "403 Forbidden" in html
    assert "403 Forbidden" in page(auditor, "/console/audit?page=%C2%B2")  # a bad page: the first


def test_an_onward_referral_past_its_wait_is_listed_to_chase(
    client: FlaskClient, app, settings
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from adapter.store.tables import onward_referral
    from tests.support.outbox import store_onward_referral

    store_onward_referral(store_of(app), "http://127.0.0.1:9/fhir", onward_id="o-late")
    sign_in(client, store_of(app), settings)
    assert "o-late" not in page(client, "/console/overdue")  # sent today: not yet overdue
    with store_of(app).engine.begin() as connection:
        month_ago = datetime.now(UTC) - timedelta(days=30)
        connection.execute(update(onward_referral).values(created_at=month_ago))
    html = page(client, "/console/overdue")
    assert "o-late" in html and "Nothing is overdue" not in html


def test_an_unknown_message_is_a_404_page(client: FlaskClient, app, settings) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, store_of(app), settings)
    response = client.get("/console/messages/no-such-message")
    assert response.status_code == 404
    assert "There is no message with this id." in response.get_data(as_text=True)
