"""`ld-adapter messages list|show|replay` and `ld-adapter worker --once`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from adapter.cli import main
from adapter.exchange.model import DEAD_LETTER
from adapter.settings import Settings
from adapter.store import Store
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


def dead_letter(store: Store) -> str:
    queued = message(ordering_key="dead")
    with store.unit_of_work() as uow:
        uow.outbox.add(queued)
        uow.outbox.claim("w", queued.created_at, queued.expires_at, 10)  # type: ignore[arg-type]
        uow.outbox.finish(queued.id, "w", {"status": DEAD_LETTER, "last_error": "HTTP 400"})
    return queued.id


def test_list_show_and_replay_a_dead_letter(runner: CliRunner, store: Store) -> None:
    dead = dead_letter(store)
    with store.unit_of_work() as uow:
        waiting = uow.outbox.add(message(ordering_key="other")).id
    listed = runner.invoke(main, ["messages", "list", "--status", "dead-letter"])
    assert listed.exit_code == 0, listed.output
    (line,) = listed.stdout.splitlines()
    assert line.startswith(dead) and "dead-letter" in line and "HTTP 400" in line
    assert waiting in runner.invoke(main, ["messages", "list"]).stdout

    shown = runner.invoke(main, ["messages", "show", dead])
    assert json.loads(shown.stdout)["status"] == "dead-letter" and "body" not in shown.stdout
    with_body = json.loads(runner.invoke(main, ["messages", "show", dead, "--body"]).stdout)
    assert with_body["body"]["type"] == "message"

    replayed = runner.invoke(main, ["messages", "replay", dead])
    assert replayed.exit_code == 0 and json.loads(replayed.stdout)["status"] == "queued"
    again = runner.invoke(main, ["messages", "replay", dead])
    assert again.exit_code == 1 and "dead-lettered" in again.output


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
