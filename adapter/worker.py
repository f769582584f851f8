"""A gunicorn gthread worker that receives each whole request before a thread takes it on.

gunicorn's gthread worker hands a connection to a thread once its first byte arrives; the thread
then reads the rest of the head and body with blocking reads and no time limit, so a few clients
trickling bytes hold every thread and the server stops answering. Here the worker's main loop
buffers the request without blocking (as a proxy such as nginx would), answers 408 to a request not
received within the request timeout, and only then hands the bytes to a thread, which never waits
on the client. Slow clients cost a socket and a buffer, not a thread.
"""

from __future__ import annotations

import contextlib
import errno
import re
import selectors
import socket
import sys
import time
from functools import partial

import orjson
from gunicorn.workers.gthread import TConn, ThreadWorker

from adapter.errors import Issue, PayloadTooLarge, operation_outcome

_MAX_HEAD_BYTES = 65_536
_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)[ \t]*\r?$", re.I | re.M)
_CHUNKED = re.compile(rb"^transfer-encoding:.*chunked", re.I | re.M)
# Answered here, so the client sends its body to the buffer; the thread must not answer it again.
_EXPECT_CONTINUE = re.compile(rb"\r\nexpect:[ \t]*100-continue[ \t]*(?=\r\n|$)", re.I)


class _BoundedSocket(socket.socket):
    """A client socket whose 'blocking' mode still times out, so no thread waits forever."""

    io_timeout: float = 10.0

    @classmethod
    def adopt(cls, sock: socket.socket, io_timeout: float) -> _BoundedSocket:
        """Take over an accepted socket."""
        bounded = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        bounded.io_timeout = io_timeout
        return bounded

    def setblocking(self, flag: bool) -> None:
        """Blocking means 'wait at most io_timeout', never 'wait forever'."""
        if flag:
            self.settimeout(self.io_timeout)
        else:
            super().setblocking(False)


class _Incoming:
    """The bytes of one request received so far, and when it must be complete."""

    def __init__(self, deadline: float) -> None:
        self.data = bytearray()
        self.deadline = deadline
        self.body_start = -1
        self.length = 0
        self.chunked = False
        self.expects_continue = False
        self.discarding = False  # refused while the client still sends: its bytes are dropped
        self.discarded = 0

    def is_console(self) -> bool:
        """Whether the request line names a console address (refusals then are a page)."""
        return b" /console/" in self.data.split(b"\r\n", 1)[0]

    def is_fhir(self) -> bool:
        """Whether the request line names a /fhir address (refusals then speak FHIR JSON)."""
        return b" /fhir" in self.data.split(b"\r\n", 1)[0]

    def head_received(self) -> bool:
        """Parse the head once it is all here; True when the body needs no waiting for."""
        end = self.data.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self.data[:end])
        lengths = _CONTENT_LENGTH.findall(head)
        self.chunked = bool(_CHUNKED.search(head))
        self.length = int(lengths[0]) if len(lengths) == 1 else 0
        stripped = _EXPECT_CONTINUE.sub(b"", head)
        self.expects_continue = stripped != head
        self.data[:end] = stripped
        self.body_start = len(stripped) + 4
        # Malformed framing goes straight on: gunicorn refuses it without reading the body.
        return len(lengths) > 1

    def complete(self) -> bool:
        """Whether the whole body has arrived."""
        if self.chunked:
            return self.data.endswith(b"0\r\n\r\n")
        return len(self.data) - self.body_start >= self.length


class BoundedThreadWorker(ThreadWorker):
    """gthread with request reading in the main loop, bounded by `request_timeout` seconds."""

    request_timeout: float = 10.0
    max_body_bytes: int = 1_048_576

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.incoming: dict[TConn, _Incoming] = {}

    def accept(self, listener: socket.socket) -> None:
        """Accept a connection and start buffering its first request."""
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        sock = _BoundedSocket.adopt(client, self.request_timeout)
        self._receive(TConn(self.cfg, sock, address, listener.getsockname()))

    def on_client_socket_readable(self, conn: TConn, client: socket.socket) -> None:
        """A kept-alive connection sends its next request: buffer it too."""
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._receive(conn)

    def _receive(self, conn: TConn, already: bytes = b"") -> None:
        conn.sock.setblocking(False)
        self.incoming[conn] = _Incoming(time.monotonic() + self.request_timeout)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_bytes, conn))
        if already:
            self._take(conn, already)

    def enqueue_req(self, conn: TConn) -> None:
        """Give a thread a received request; a pipelined one read ahead is received first."""
        parser = conn.parser
        if not getattr(conn, "buffered", b"") and parser and parser.unreader.buf.getvalue():
            self._receive(conn, parser.unreader.take_buffered())
            return
        super().enqueue_req(conn)

    def _on_bytes(self, conn: TConn, _sock: socket.socket) -> None:
        try:
            data = conn.sock.recv(65_536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._drop(conn, None)
            return
        self._take(conn, data)

    def _take(self, conn: TConn, data: bytes) -> None:
        incoming = self.incoming[conn]
        if incoming.discarding:
            incoming.discarded += len(data)
            if incoming.discarded >= incoming.length:
                self._drop(conn, None)
            return
        waiting_for_head = incoming.body_start < 0
        incoming.data += data
        if waiting_for_head and not self._head(conn, incoming):
            return
        # A chunked body has no declared length; its framing may at most double it.
        if incoming.chunked and len(incoming.data) > 2 * self.max_body_bytes + _MAX_HEAD_BYTES:
            self._refuse_body(conn, incoming)
        elif incoming.complete():
            self._hand_over(conn)

    def _refuse_body(self, conn: TConn, incoming: _Incoming) -> None:
        """413 from here, not from a thread that would then drain the body; drop what follows."""
        if incoming.is_console():
            _send_quietly(conn.sock, _console_refusal(self.max_body_bytes))
        else:
            _send_quietly(conn.sock, _refusal(413, incoming.is_fhir(), self.max_body_bytes))
        incoming.discarding = True
        incoming.discarded = len(incoming.data) - incoming.body_start
        incoming.data.clear()
        if incoming.chunked:
            incoming.length = sys.maxsize  # discard until the request timeout, then close
        if incoming.discarded >= incoming.length:
            self._drop(conn, None)

    def _head(self, conn: TConn, incoming: _Incoming) -> bool:
        """Act on the head once it is here; False when there is nothing more to do for now."""
        if incoming.head_received():
            self._hand_over(conn)
            return False
        if incoming.body_start < 0:
            if len(incoming.data) > _MAX_HEAD_BYTES:
                self._drop(conn, 431)
            return False
        if incoming.length > self.max_body_bytes:
            self._refuse_body(conn, incoming)
            return False
        if incoming.expects_continue and not incoming.complete():
            _send_quietly(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    def _hand_over(self, conn: TConn) -> None:
        self.poller.unregister(conn.sock)
        conn.buffered = bytes(self.incoming.pop(conn).data)
        conn.data_ready = True
        self.enqueue_req(conn)

    def handle(self, conn: TConn) -> object:
        """Serve the buffered request in a thread: the parser reads the buffer, not the client."""
        buffered = getattr(conn, "buffered", b"")
        if buffered:
            conn.buffered = b""
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(buffered)
        return super().handle(conn)

    def murder_pending(self) -> None:
        """Also answer 408 to requests not received in time (all of them when stopping)."""
        super().murder_pending()
        now = time.monotonic()
        late = [c for c, i in self.incoming.items() if i.deadline <= now or not self.alive]
        for conn in late:
            status = 408 if self.alive else 503
            self._drop(conn, None if self.incoming[conn].discarding else status)

    def _drop(self, conn: TConn, status: int | None) -> None:
        incoming = self.incoming.pop(conn, None)
        if incoming is not None:
            self.poller.unregister(conn.sock)
        if status is not None:
            fhir = incoming is None or incoming.is_fhir()
            _send_quietly(conn.sock, _refusal(status, fhir, self.max_body_bytes))
        self.nr_conns -= 1
        conn.close()


_REFUSALS = {
    408: ("Request Timeout", "timeout", "The request was not received in time; send it again."),
    413: ("Payload Too Large", "too-costly", "The request body is over {limit:,} bytes."),
    431: ("Request Header Fields Too Large", "too-costly", "The request head is over 64 KiB."),
    503: ("Service Unavailable", "transient", "The server is restarting; send the request again."),
}


def _refusal(status: int, fhir: bool, body_limit: int) -> bytes:
    reason, code, diagnostics = _REFUSALS[status]
    issue = Issue(diagnostics.format(limit=body_limit), code=code)
    body = orjson.dumps(
        PayloadTooLarge(issue).operation_outcome() if status == 413 else operation_outcome([issue])
    )
    media_type = "application/fhir+json" if fhir else "application/json"
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {media_type}; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _console_refusal(body_limit: int) -> bytes:
    """413 for a person in the console (an upload too large): a page saying the limit, not JSON."""
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Too large</title>"
        '<link rel=stylesheet href="/console/static/console.css"><main><h1>413</h1>'
        f"<p>The upload is over {body_limit:,} bytes, the most the adapter takes "
        "(LD_ADAPTER_MAX_BODY_BYTES). Check a larger file on the adapter's machine with "
        "<code>ld-adapter validate FILE</code>.</p>"
        '<p><a href="/console/validate">Back to the validator</a></p></main></html>'
    ).encode()
    head = (
        "HTTP/1.1 413 Payload Too Large\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _send_quietly(sock: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):
        sock.send(data)
