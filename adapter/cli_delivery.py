"""`ld-adapter worker` and `ld-adapter messages …`: delivering the outbox and looking into it."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click
import orjson

from adapter.errors import AdapterError
from adapter.settings import Settings, SettingsError
from adapter.store import Store

_STATUSES = ("queued", "retrying", "delivered", "dead-letter", "cancelled")


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def _store(settings: Settings) -> Iterator[Store]:
    settings.home.mkdir(parents=True, exist_ok=True)
    store = Store.from_url(
        settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
    )
    try:
        store.migrate()
        yield store
    except AdapterError as error:
        raise click.ClickException("; ".join(i.diagnostics for i in error.issues)) from None
    finally:
        store.dispose()


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def worker(once: bool) -> None:
    """Deliver queued messages to partners until SIGTERM or SIGINT (finishing the one in hand)."""
    from adapter.exchange.worker import DeliveryWorker, wake

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = _settings()
    with _store(settings) as store:
        delivery = DeliveryWorker(store, settings)
        if once:
            while delivery.run_once():
                pass
            return
        stop = threading.Event()

        def _stop(_signal: int, _frame: FrameType | None) -> None:
            stop.set()
            wake()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        delivery.run(stop)


@click.group()
def messages() -> None:
    """Outbound messages: list, show, replay dead letters."""


@messages.command(name="list")
@click.option("--status", type=click.Choice(_STATUSES), default=None, help="Only this status.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
def list_messages(status: str | None, limit: int, offset: int) -> None:
    """One line per message, newest first: id, status, attempts, kind, next attempt, last error."""
    from adapter.services.messages import list_messages as listed

    with _store(_settings()) as store:
        found, total = listed(store, status, limit, offset)
    for message in found:
        next_attempt = message.next_attempt_at.isoformat() if message.next_attempt_at else "-"
        click.echo(
            f"{message.id}  {message.status:<11} {message.attempts:>3}  {message.kind:<15} "
            f"{next_attempt}  {message.last_error or ''}".rstrip()
        )
    click.echo(f"{len(found)} of {total} shown", err=True)


@messages.command()
@click.argument("message_id")
@click.option("--body", is_flag=True, help="Also print the message Bundle (patient data).")
def show(message_id: str, body: bool) -> None:
    """A message's delivery record as JSON."""
    from adapter.services.messages import get_message, message_record

    with _store(_settings()) as store:
        message = get_message(store, message_id)
    record = message_record(message)
    if body:
        record["body"] = message.body
    click.echo(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode())


@messages.command()
@click.argument("message_id")
def replay(message_id: str) -> None:
    """Queue a dead-lettered message again (same request id, a new time to live)."""
    from adapter.services.messages import message_record, replay_message

    settings = _settings()
    with _store(settings) as store:
        message = replay_message(store, settings, message_id)
    click.echo(orjson.dumps(message_record(message), option=orjson.OPT_INDENT_2).decode())
