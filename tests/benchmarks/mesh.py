"""MESH: send rate (outbox → mesh-sandbox) and receive rate (our inbox → referrals, acknowledged).

NHS England's mesh-sandbox runs on 127.0.0.1 (its own process, full authentication, file store),
the adapter's side in this process on SQLite with audit on. Send: SENT messages queued for a MESH
partner, drained by one in-process DeliveryWorker (batch 20); the rate counts from the first claim to
the last message recorded as delivered. Receive: RECEIVED distinct referral messages dropped into
our mailbox by the partner's mailbox, then one poll takes them: download, the $process-message
receiver's checks and validator, the referral stored, then the acknowledgement. Median of RUNS runs.
"""

from __future__ import annotations

import copy
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson

from adapter.exchange.mesh_inbox import MeshInbox
from adapter.exchange.partners import load_partners
from adapter.exchange.worker import DeliveryWorker
from adapter.services.startup import load_service_directory
from adapter.store import ReferralFilters, Store
from tests.benchmarks.inbound import _messages, _nhs_numbers
from tests.support.inbound import referral_message
from tests.support.mesh_partners import (
    MPFT_MAILBOX,
    OUR_MAILBOX,
    drain,
    mesh_endpoint,
    mesh_settings,
    workflow,
)
from tests.support.mesh_sandbox import MeshSandbox
from tests.support.outbox import endpoint, seed

Median = Callable[[Callable[[], object], int], float]
SENT = 200
RECEIVED = 100
RUNS = 3


def _store(home: Path, sandbox: MeshSandbox) -> tuple[Store, object]:
    settings = mesh_settings(home, sandbox, delivery_poll_interval=0.05)
    store = Store.from_url(settings.database_url)
    store.migrate()
    load_partners(store, settings, load_service_directory(store, settings))
    return store, settings


def send_rate(sandbox: MeshSandbox) -> float:
    """Messages/s from the outbox to the partner's mailbox, one worker."""
    drain(sandbox, MPFT_MAILBOX)
    with tempfile.TemporaryDirectory() as home:
        store, settings = _store(Path(home), sandbox)
        with store.unit_of_work() as uow:
            uow.resources.create(mesh_endpoint(endpoint("unused"), MPFT_MAILBOX))
        seed(store, SENT, transport="mesh")
        worker = DeliveryWorker(store, settings)  # type: ignore[arg-type]
        began = time.perf_counter()
        while worker.run_once():
            pass
        seconds = time.perf_counter() - began
        worker.close()
        store.dispose()
    arrived = len(sandbox.inbox(MPFT_MAILBOX))
    assert arrived == SENT, arrived
    return SENT / seconds


def receive_rate(sandbox: MeshSandbox) -> float:
    """Referral messages/s taken from our mailbox: stored, committed and acknowledged."""
    drain(sandbox, OUR_MAILBOX)
    prefix = uuid.uuid4().hex[:8]
    messages = _messages(RECEIVED, _nhs_numbers(920_000_000), prefix)  # a fresh store each run
    with sandbox.client(MPFT_MAILBOX) as mpft:
        for message in messages:
            body = orjson.dumps(copy.deepcopy(message))
            mpft.send_message(OUR_MAILBOX, body, workflow_id=workflow(), local_id=str(uuid.uuid4()))
    with tempfile.TemporaryDirectory() as home:
        store, settings = _store(Path(home), sandbox)
        inbox = MeshInbox(store, settings)  # type: ignore[arg-type]
        began = time.perf_counter()
        result = inbox.poll_once()
        seconds = time.perf_counter() - began
        inbox.close()
        with store.unit_of_work(read_only=True) as uow:
            stored = uow.referrals.list(ReferralFilters(), 1, 0)[1]
        store.dispose()
    assert result.counts == {"accepted": RECEIVED} and stored == RECEIVED, (result, stored)
    assert sandbox.inbox(OUR_MAILBOX) == []
    return RECEIVED / seconds


def mesh_section(_median: Median) -> list[str]:
    """MESH send and receive rates against mesh-sandbox."""
    referral_message()  # load the template before timing
    with MeshSandbox() as sandbox:
        sends = [send_rate(sandbox) for _ in range(RUNS)]
        receives = [receive_rate(sandbox) for _ in range(RUNS)]
    print(f"MESH sends/s {sends}, receives/s {receives}", flush=True)
    return [
        "## MESH against mesh-sandbox (SQLite)",
        "",
        f"NHS England's mesh-sandbox on 127.0.0.1 (full authentication, file store); the adapter "
        f"in the benchmark process. Send: {SENT} queued messages drained by one delivery worker "
        f"(audit on). Receive: {RECEIVED} distinct referral messages in our mailbox taken by one "
        "poll (download, receiver checks and validator, referral stored, acknowledged). "
        f"Median of {RUNS} runs.",
        "",
        "| direction | messages/s (median) | runs |",
        "| --- | --- | --- |",
        f"| send: outbox → partner's mailbox | {statistics.median(sends):,.0f} | "
        f"{', '.join(f'{r:,.0f}' for r in sends)} |",
        f"| receive: our inbox → referral committed, acknowledged | "
        f"{statistics.median(receives):,.0f} | {', '.join(f'{r:,.0f}' for r in receives)} |",
        "",
    ]


SECTIONS = [mesh_section]


if __name__ == "__main__":
    print("\n".join(mesh_section(lambda action, repeats: 0.0)))
