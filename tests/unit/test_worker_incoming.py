"""How the bounded worker decides a request has fully arrived, before any thread sees it."""

from __future__ import annotations

import pytest

from adapter.worker import _Incoming


def _received(*pieces: bytes) -> tuple[_Incoming, list[bool]]:
    incoming = _Incoming(deadline=0)
    steps = []
    for piece in pieces:
        incoming.data += piece
        if incoming.body_start < 0 and incoming.head_received():
            steps.append(True)
            continue
        steps.append(incoming.body_start >= 0 and incoming.complete())
    return incoming, steps


@pytest.mark.parametrize(
    "head",
    [
        b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n",
        b"POST /x HTTP/1.1\r\ncontent-length:4\r\nHost: a\r\n\r\n",
    ],
)
def test_a_body_is_waited_for_until_content_length_bytes_are_here(head: bytes):
    _, steps = _received(head[:10], head[10:] + b"ab", b"cd")
    assert steps == [False, False, True]


def test_a_chunked_body_is_complete_at_its_last_chunk():
    head = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    _, steps = _received(head, b"2\r\nab\r\n", b"0\r\n\r\n")
    assert steps == [False, False, True]


@pytest.mark.parametrize(
    "head",
    [
        b"POST /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
        b"POST /x HTTP/1.1\r\nContent-Length: 2\r\nexpect:100-Continue\r\n\r\n",
    ],
)
def test_expect_continue_is_answered_here_and_taken_out_of_the_request(head: bytes):
    incoming, steps = _received(head, b"{}")
    assert incoming.expects_continue
    assert steps == [False, True]
    assert b"xpect" not in bytes(incoming.data)
    assert bytes(incoming.data).endswith(b"Content-Length: 2\r\n\r\n{}")


def test_two_content_lengths_go_on_for_gunicorn_to_refuse():
    head = b"POST /x HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n"
    _, steps = _received(head)
    assert steps == [True]
