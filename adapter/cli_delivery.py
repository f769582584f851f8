"""`ld-adapter worker` and `ld-adapter messages …`: delivering the outbox and looking into it."""

from __future__ import annotations

import getpass
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click
import orjson

from adapter.errors import AdapterError
from adapter.exchange.model import OutboundMessage
from adapter.settings import Settings, SettingsError
from adapter.store import Store

_STATUSES = ("queued", "retrying", "delivered", "dead-letter", "cancelled")
_LINE = "{:<36}  {:<11} {:>5}  {:<15} {:<32}  {}"  # messages list: a GUID, then the rest


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
@click.option(
    "--once", is_flag=True, help="Deliver what is due now (and take our MESH inbox), then exit."
)
def worker(once: bool) -> None:
    """Deliver queued messages to partners, and poll our MESH inbox, until SIGTERM or SIGINT."""
    settings = _settings()
    from adapter.observe.logs import configure
    from adapter.observe.metrics import prepare_multiprocess_dir

    configure(settings.log_format)
    if not once:
        # Count into the files of a `serve` from the same home: its /metrics shows deliveries.
        settings.home.mkdir(parents=True, exist_ok=True)
        prepare_multiprocess_dir(settings.home / "metrics")
    from adapter.exchange.worker import DeliveryWorker, wake

    with _store(settings) as store:
        if settings.mesh_enabled and settings.mesh_poll:
            _prepare(store, settings)
        delivery = DeliveryWorker(store, settings)
        if once:
            while delivery.run_once():
                pass
            delivery.poll_inbox_if_due()
            delivery.close()
            return
        stop = threading.Event()

        def _stop(_signal: int, _frame: FrameType | None) -> None:
            stop.set()
            wake()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        delivery.run(stop)


def _prepare(store: Store, settings: Settings) -> None:
    """Load the directory and partners, as `serve` does: MESH brings referrals to this worker."""
    from adapter.services.startup import prepare_store

    try:
        prepare_store(store, settings)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def messages() -> None:
    """Outbound messages: list, show, replay dead letters."""


@messages.command(name="list")
@click.option("--status", type=click.Choice(_STATUSES), default=None, help="Only this status.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0, show_default=True)
def list_messages(status: str | None, limit: int, offset: int) -> None:
    """One line per message, newest first: id, status, attempts, kind, next attempt, last error."""
    from adapter.exchange.model import FINAL_STATES
    from adapter.services.messages import list_messages as listed

    with _store(_settings()) as store:
        found, total = listed(store, status, limit, offset)
    click.echo(_LINE.format("ID", "STATUS", "TRIES", "KIND", "NEXT ATTEMPT", "LAST ERROR").rstrip())
    for message in found:
        # A final message has no next attempt, whatever its row still says.
        due = message.next_attempt_at if message.status not in FINAL_STATES else None
        next_attempt = due.isoformat() if due else "-"
        line = _LINE.format(
            message.id,
            message.status,
            message.attempts,
            message.kind,
            next_attempt,
            message.last_error or "",
        )
        click.echo(line.rstrip())
    click.echo(f"{len(found)} of {total} shown", err=True)


@messages.command()
@click.argument("message_id")
@click.option(
    "--body", is_flag=True, help="Also print the message Bundle and the partner's whole outcome."
)
def show(message_id: str, body: bool) -> None:
    """A message's delivery record as JSON; showing its body (patient data) is audited."""
    from adapter.services.messages import get_message, message_record

    settings = _settings()
    with _store(settings) as store:
        if body:
            message = _read_audited(store, settings, message_id)
        else:
            message = get_message(store, message_id)
    record = message_record(message, include_body=body)
    click.echo(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode())


def _read_audited(store: Store, settings: Settings, message_id: str) -> OutboundMessage:
    """Read a message to show its body, audited as the API's ?include=body is: who, what, whom."""
    from adapter.exchange.outcomes import patient_of_message
    from adapter.services import audit
    from adapter.services.messages import get_message

    if not settings.audit:
        return get_message(store, message_id)
    target = audit.Entity(identifier=(f"{settings.base_url}/api/messages", message_id))
    requestor = audit.Requestor(client_id=f"ld-adapter messages show ({_user()})")
    with audit.audited(store, "read", requestor, settings.fhir_base_url, [target]) as scope:
        message = get_message(store, message_id)
        scope.note([patient_of_message(message)])
    return message


def _user() -> str:
    """Who ran the command, as the operating system knows them."""
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (KeyError, OSError):  # no name for this uid (e.g. some containers)
        return f"uid {os.getuid()}@{socket.gethostname()}"


@messages.command()
@click.argument("message_id")
def replay(message_id: str) -> None:
    """Queue a dead-lettered message again (same request id, a new time to live)."""
    from adapter.services.messages import message_record, replay_message

    settings = _settings()
    with _store(settings) as store:
        message = replay_message(store, settings, message_id)
    click.echo(orjson.dumps(message_record(message), option=orjson.OPT_INDENT_2).decode())
