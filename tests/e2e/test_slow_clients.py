"""Clients that send slowly cannot stall the served adapter: /healthz answers within 1 s."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from tests.support.served import cli_token, served_adapter

SLOW_CLIENTS = 20
DURATION = 20.0
REQUEST_TIMEOUT = 5


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """A served adapter with 2 workers of 2 threads: fewer threads than slow clients."""
    settings = {
        "LD_ADAPTER_WORKERS": "2",
        "LD_ADAPTER_THREADS": "2",
        "LD_ADAPTER_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
    }
    with served_adapter(tmp_path_factory.mktemp("slow-home"), settings) as server:
        yield server.base, server.env


def _trickle(port: int, token: str, index: int, stop: threading.Event, answers: list) -> None:
    """Keep one slow request open until stopped: trickle its head, its body or a too-large body."""
    kind = index % 3
    length = 2_000_000 if kind == 2 else 1000  # over LD_ADAPTER_MAX_BODY_BYTES, or within it
    head = (
        b"POST /fhir/$validate HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: {length}\r\n".encode()
        + b"Content-Type: application/fhir+json\r\n\r\n"
    )
    while not stop.is_set():
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            if kind:
                sock.sendall(head)
            while not stop.wait(0.2):
                if select.select([sock], [], [], 0)[0]:  # the server answered or hung up
                    answers.append(_read_quietly(sock))
                    break
                try:
                    sock.sendall(b"{" if kind else head[:1])
                except OSError:
                    break


def _read_quietly(sock: socket.socket) -> bytes:
    try:
        return sock.recv(4096)
    except OSError:
        return b""


def test_slow_clients_do_not_stall_healthz(served: tuple[str, dict[str, str]]) -> None:
    base_url, env = served
    port = int(base_url.rsplit(":", 1)[1])
    token = cli_token(env)  # with a token the body is read, not refused unread with 401
    stop = threading.Event()
    answers: list[bytes] = []
    trickles = [
        threading.Thread(target=_trickle, args=(port, token, i, stop, answers), daemon=True)
        for i in range(SLOW_CLIENTS)
    ]
    for thread in trickles:
        thread.start()
    slowest = 0.0
    try:
        time.sleep(1)  # every slow client is connected and sending
        finish = time.monotonic() + DURATION
        while time.monotonic() < finish:
            started = time.monotonic()
            response = requests.get(f"{base_url}/healthz", timeout=5)
            slowest = max(slowest, time.monotonic() - started)
            assert response.status_code == 200
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in trickles:
            thread.join(timeout=5)
    assert slowest < 1.0, f"/healthz took {slowest:.2f} s with {SLOW_CLIENTS} slow clients"
    # The slow requests were cut off once the request timeout passed, with a 408 OperationOutcome.
    timed_out = [a for a in answers if a.startswith(b"HTTP/1.1 408")]
    assert timed_out, answers[:3]
    assert b'"resourceType":"OperationOutcome"' in timed_out[0]
    # Bodies declared too large were refused with 413 at once, without a thread draining them.
    assert any(a.startswith(b"HTTP/1.1 413") for a in answers), answers[:3]


def test_ordinary_clients_are_served_as_before(served: tuple[str, dict[str, str]]) -> None:
    base_url, env = served
    token = cli_token(env)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    patient = b'{"resourceType": "Patient", "gender": "female"}'
    session = requests.Session()
    for _ in range(3):  # kept alive
        assert session.post(f"{base_url}/fhir/$validate", data=patient, headers=headers).ok
    chunked = session.post(
        f"{base_url}/fhir/$validate", data=iter([patient[:9], patient[9:]]), headers=headers
    )
    assert chunked.json()["issue"][0]["severity"] == "information"
    port = int(base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        sock.sendall(
            f"POST /fhir/$validate HTTP/1.1\r\nHost: x\r\n{head}Expect: 100-continue\r\n"
            f"Content-Length: {len(patient)}\r\n\r\n".encode()
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")  # within the 2 s timeout
        sock.sendall(patient)
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        # Pipelined: a whole request and half the next one, then the rest.
        health = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        sock.sendall(health + health[:10])
        time.sleep(0.3)
        sock.sendall(health[10:])
        answers = b""
        while answers.count(b"HTTP/1.1 200") < 2:
            answers += sock.recv(4096)
