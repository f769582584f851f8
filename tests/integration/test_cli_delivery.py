"""`ld-adapter messages list|show|replay` and `ld-adapter worker --once`."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from adapter.cli import main
from adapter.exchange.model import DEAD_LETTER
from adapter.settings import Settings
from adapter.store import Store
from adapter.store.tables import resource
from tests.support.outbox import endpoint, message
from tests.support.partner_server import PartnerServer


@pytest.fixture
def runner(tmp_path, monkeypatch) -> CliRunner:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LD_ADAPTER_HOME", str(tmp_path))
    return CliRunner()


@pytest.fixture
def store(runner: CliRunner):  # type: ignore[no-untyped-def]
    store = Store.from_url(Settings.from_env().database_url)
    store.migrate()
    yield store
    store.dispose()


# A partner's diagnostics can name the person; only the coded parts are shown without --body.
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [
        {
            "severity": "error",
            "code": "invalid",
            "details": {"coding": [{"system": "urn:x", "code": "bad-nhs"}], "text": "Jo Bloggs"},
            "diagnostics": "NHS number of Jo Bloggs does not match",
            "expression": ["Patient.identifier[0]"],
        }
    ],
}


def dead_letter(store: Store) -> str:
    queued = message(ordering_key="dead")
    with store.unit_of_work() as uow:
        uow.outbox.add(queued)
        uow.outbox.claim("w", queued.created_at, queued.expires_at, 10)  # type: ignore[arg-type]
        values = {"status": DEAD_LETTER, "last_error": "HTTP 400", "partner_outcome": OUTCOME}
        uow.outbox.finish(queued.id, "w", values)
    return queued.id


def test_list_show_and_replay_a_dead_letter(runner: CliRunner, store: Store) -> None:
    dead = dead_letter(store)
    with store.unit_of_work() as uow:
        waiting = uow.outbox.add(message(ordering_key="other"))
    listed = runner.invoke(main, ["messages", "list", "--status", "dead-letter"])
    assert listed.exit_code == 0, listed.output
    heading, line = listed.stdout.splitlines()
    assert heading.split() == ["ID", "STATUS", "TRIES", "KIND", "NEXT", "ATTEMPT", "LAST", "ERROR"]
    assert line.startswith(dead) and "dead-letter" in line and "HTTP 400" in line
    assert line.split()[4] == "-"  # a dead letter has no next attempt
    everything = runner.invoke(main, ["messages", "list"]).stdout
    assert f"{waiting.next_attempt_at.isoformat()}" in everything  # type: ignore[union-attr]

    shown = json.loads(runner.invoke(main, ["messages", "show", dead]).stdout)
    assert shown["status"] == "dead-letter" and "body" not in shown
    assert shown["next_attempt_at"] is None
    assert "Bloggs" not in json.dumps(shown)
    assert shown["partner_outcome"]["issue"] == [
        {
            "severity": "error",
            "code": "invalid",
            "details": {"coding": [{"system": "urn:x", "code": "bad-nhs"}]},
            "expression": ["Patient.identifier[0]"],
        }
    ]
    with_body = json.loads(runner.invoke(main, ["messages", "show", dead, "--body"]).stdout)
    assert with_body["body"]["type"] == "message" and with_body["partner_outcome"] == OUTCOME

    replayed = runner.invoke(main, ["messages", "replay", dead])
    assert replayed.exit_code == 0 and json.loads(replayed.stdout)["status"] == "queued"
    assert json.loads(replayed.stdout)["partner_outcome"] is None
    again = runner.invoke(main, ["messages", "replay", dead])
    assert again.exit_code == 1 and "dead-lettered" in again.output


def test_showing_a_body_is_audited_as_a_read_of_the_person(runner: CliRunner, store: Store) -> None:
    dead = dead_letter(store)
    runner.invoke(main, ["messages", "show", dead])
    assert _audit_events(store) == []  # no patient data shown
    assert runner.invoke(main, ["messages", "show", dead, "--body"]).exit_code == 0
    (event,) = _audit_events(store)
    what = {e["what"].get("reference") or e["what"]["identifier"]["value"] for e in event["entity"]}
    assert {dead, "Patient/p1"} <= what and event["outcome"] == "0"
    assert "ld-adapter messages show" in json.dumps(event["agent"])


def _audit_events(store: Store) -> list[dict]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            sa.select(resource.c.content).where(resource.c.resource_type == "AuditEvent")
        )
        return [json.loads(row.content) for row in rows]


def test_show_of_an_unknown_message_fails_plainly(runner: CliRunner, store: Store) -> None:
    result = runner.invoke(main, ["messages", "show", "nope"])
    assert result.exit_code == 1 and "no message with this id" in result.output


def test_worker_once_delivers_what_is_due_to_a_real_partner(
    runner: CliRunner, store: Store
) -> None:
    with PartnerServer() as partner:
        with store.unit_of_work() as uow:
            uow.resources.create(endpoint(partner.base))
            sent = [uow.outbox.add(message(ordering_key="k")) for _ in range(3)]
        result = runner.invoke(main, ["worker", "--once"])
        assert result.exit_code == 0, result.output
        assert [r.request_id for r in partner.received] == [m.request_id for m in sent]
