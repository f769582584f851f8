"""A real FHIR messaging partner on 127.0.0.1 for integration and e2e tests, told when to fail.

    with PartnerServer() as partner:
        partner.fail(503, times=2, retry_after=1)    # the next two messages get 503 Retry-After: 1
        ... send to f"{partner.base}/$process-message" ...
        assert partner.accepted_request_ids() == [...]

It receives like a BaRS receiver: `X-Request-Id` and `X-Correlation-Id` must be GUIDs (else 400),
a replayed `X-Request-Id` that was accepted gets 409 with issue code `duplicate`, the body must be a
message Bundle. `stop()` closes the port and every open connection (clients see connection refused)
and `start()` opens the same port again. Run it by hand to watch an adapter deliver:
`python -m tests.support.partner_server --port 8091` prints one line per message (no patient data).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import socket
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

PROCESS_MESSAGE = "/$process-message"


@dataclass(frozen=True)
class Received:
    """One message the partner accepted."""

    request_id: str
    correlation_id: str
    headers: dict[str, str]
    bundle: dict
    at: float


@dataclass
class _Fault:
    status: int | None  # None: no answer at all, only a delay
    times: int | None  # None: until `until`
    until: float | None = None
    retry_after: str | None = None
    outcome: dict | None = None
    delay: float = 0.0


@dataclass
class _State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    faults: list[_Fault] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    accepted: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)  # every POST by X-Request-Id
    answers: Counter[int] = field(default_factory=Counter)  # status codes sent
    connections: set[socket.socket] = field(default_factory=set)
    echo: bool = False


def operation_outcome(code: str, text: str, severity: str = "error") -> dict:
    """A one-issue OperationOutcome."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": text}],
    }


class PartnerServer:
    """A threaded HTTP/1.1 FHIR messaging receiver on 127.0.0.1 (base URL `.base`)."""

    def __init__(self, port: int = 0, path: str = "/fhir") -> None:
        self._state = _State()
        self._path = path.rstrip("/")
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = port

    @property
    def base(self) -> str:
        """The partner's FHIR base; messages go to `{base}/$process-message`."""
        return f"http://127.0.0.1:{self.port}{self._path}"

    def start(self) -> PartnerServer:
        """Listen (again) on the same port."""
        handler = type("Handler", (_Handler,), {"state": self._state, "base_path": self._path})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port and drop every open connection: clients now get connection refused."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._state.lock:
            open_connections = list(self._state.connections)
        for connection in open_connections:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
        self._server = None

    def __enter__(self) -> PartnerServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # What to do with the next messages.
    def fail(
        self,
        status: int,
        times: int = 1,
        retry_after: float | str | None = None,
        outcome: dict | None = None,
    ) -> None:
        """Answer the next `times` messages with `status` (and Retry-After, OperationOutcome)."""
        self._add(_Fault(status, times, None, _retry(retry_after), outcome))

    def fail_for(self, seconds: float, status: int, retry_after: float | str | None = None) -> None:
        """Answer every message with `status` for the next `seconds`."""
        self._add(_Fault(status, None, time.monotonic() + seconds, _retry(retry_after)))

    def stall(self, seconds: float, times: int = 1) -> None:
        """Hold the next `times` messages for `seconds` before answering (clients time out)."""
        self._add(_Fault(None, times, None, delay=seconds))

    def _add(self, fault: _Fault) -> None:
        with self._state.lock:
            self._state.faults.append(fault)

    # What happened.
    @property
    def received(self) -> list[Received]:
        """The messages accepted, in arrival order."""
        with self._state.lock:
            return list(self._state.received)

    def accepted_request_ids(self) -> Counter[str]:
        """How many times each X-Request-Id was accepted (more than 1 would be a bug here)."""
        with self._state.lock:
            return Counter(self._state.accepted)

    def requests_by_id(self) -> Counter[str]:
        """How many POSTs arrived with each X-Request-Id, failed ones included."""
        with self._state.lock:
            return Counter(self._state.requests)

    def answers(self) -> Counter[int]:
        """How many answers of each HTTP status were sent."""
        with self._state.lock:
            return Counter(self._state.answers)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The accepted messages once there are at least `count`; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            received = self.received
            if len(received) >= count:
                return received
            time.sleep(0.005)
        raise AssertionError(f"partner accepted {len(self.received)} of {count} messages")


def _retry(value: float | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else str(value)


def _is_guid(value: str | None) -> bool:
    try:
        return value is not None and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle on, the body waits for the client's
    # delayed ACK (40 ms), capping a kept-alive sender at ~25 messages a second.
    disable_nagle_algorithm = True
    state: _State
    base_path: str

    def setup(self) -> None:
        super().setup()  # disable_nagle_algorithm: headers and body go out in two writes, and
        # Nagle would hold the body for the client's delayed ACK (40 ms a message)
        with self.state.lock:
            self.state.connections.add(self.connection)

    def finish(self) -> None:
        with self.state.lock:
            self.state.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read the counters, not a log."""

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path.split("?")[0] != self.base_path + PROCESS_MESSAGE:
            self._answer(404, operation_outcome("not-found", "no such operation"))
            return
        request_id = self.headers.get("X-Request-Id")
        with self.state.lock:
            self.state.requests[request_id or ""] += 1
        fault = self._next_fault()
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.status is not None:
                self._fail(fault)
                return
        self._receive(request_id, body)

    def _next_fault(self) -> _Fault | None:
        now = time.monotonic()
        with self.state.lock:
            faults = self.state.faults
            faults[:] = [f for f in faults if f.until is None or f.until > now]
            if not faults:
                return None
            fault = faults[0]
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    faults.pop(0)
            return fault

    def _fail(self, fault: _Fault) -> None:
        assert fault.status is not None
        outcome = fault.outcome or operation_outcome(
            "transient" if fault.status >= 500 or fault.status == 429 else "invalid",
            f"partner answered {fault.status}",
        )
        extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        self._answer(fault.status, outcome, extra)

    def _receive(self, request_id: str | None, body: bytes) -> None:
        correlation_id = self.headers.get("X-Correlation-Id")
        if not (_is_guid(request_id) and _is_guid(correlation_id)):
            issue = operation_outcome("value", "X-Request-Id and X-Correlation-Id must be GUIDs")
            self._answer(400, issue)
            return
        assert request_id is not None and correlation_id is not None
        try:
            bundle = json.loads(body)
        except ValueError:
            self._answer(400, operation_outcome("structure", "the body is not JSON"))
            return
        if not (isinstance(bundle, dict) and bundle.get("type") == "message"):
            self._answer(400, operation_outcome("structure", "expected a message Bundle"))
            return
        with self.state.lock:
            duplicate = self.state.accepted[request_id] > 0
            if not duplicate:
                self.state.accepted[request_id] += 1
                self.state.received.append(
                    Received(request_id, correlation_id, dict(self.headers), bundle, time.time())
                )
            echo = self.state.echo
        if duplicate:
            issue = operation_outcome("duplicate", "this X-Request-Id was already accepted")
            self._answer(409, issue)
            return
        if echo:
            print(_summary(request_id, bundle), flush=True)
        self._answer(200, operation_outcome("informational", "message accepted", "information"))

    def _answer(self, status: int, resource: dict, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(resource).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(payload)))
        for name in ("X-Request-Id", "X-Correlation-Id"):
            if self.headers.get(name):
                self.send_header(name, self.headers[name])
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        with self.state.lock:
            self.state.answers[status] += 1


def _summary(request_id: str, bundle: dict) -> str:
    """What arrived, by resource type only: the bundle holds patient data."""
    types = Counter(
        entry.get("resource", {}).get("resourceType", "?") for entry in bundle.get("entry", [])
    )
    listed = ", ".join(f"{count} {name}" for name, count in sorted(types.items()))
    return f"accepted message {request_id}: {listed}"


def main() -> None:
    """Run a partner until interrupted, printing a line per accepted message."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--path", default="/fhir")
    options = parser.parse_args()
    partner = PartnerServer(options.port, options.path)
    partner._state.echo = True
    partner.start()
    print(f"partner listening: {partner.base}/$process-message", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        partner.stop()


if __name__ == "__main__":
    main()
