"""Reading ITK3 responses from a GP practice: which message they answer and what they say."""

from __future__ import annotations

import json

import pytest

from adapter.exchange.itk_ack import BUSINESS, INFRASTRUCTURE, AckError, read_ack
from adapter.services.gp_acks import ack_status
from tests.support.gp_mesh import itk_ack

OURS = "5d0c7f4e-1b7a-4a53-9a0e-0c1f3e9c2a00"


@pytest.mark.parametrize(
    ("code", "ok", "kind", "positive", "status"),
    [
        ("20013", True, INFRASTRUCTURE, True, "delivered"),
        ("30001", True, BUSINESS, True, "filed"),
        ("30002", False, BUSINESS, False, "failed"),
        ("20009", False, INFRASTRUCTURE, False, "failed"),
    ],
)
def test_an_ack_says_which_message_it_answers_and_what_it_moves_it_to(
    code: str, ok: bool, kind: str, positive: bool, status: str
) -> None:
    ack = read_ack(itk_ack(OURS, code, ok=ok))
    assert (ack.responds_to, ack.code, ack.kind, ack.positive) == (OURS, code, kind, positive)
    assert ack_status(ack) == status


def test_the_reason_of_a_negative_ack_is_its_code_and_display_never_the_diagnostics() -> None:
    ack = read_ack(itk_ack(OURS, "30002", ok=False))
    assert ack.reason == "ITK3 response 30002: Patient not known here"
    assert "Hartley" not in ack.reason


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("29999", "ITK3 response 29999"),  # a code we have no display for
        ("Siobhan O'Brien-Smith 9990012369", "ITK3 response unknown"),  # not a code at all
    ],
)
def test_a_code_we_do_not_know_gives_no_text_of_the_sender(code: str, reason: str) -> None:
    bundle = json.loads(itk_ack(OURS, "30002", ok=False))
    bundle["entry"][1]["resource"]["issue"][0]["details"]["coding"][0]["code"] = code
    assert read_ack(json.dumps(bundle).encode()).reason == reason


def test_an_infrastructure_ok_may_carry_its_code_in_the_header_alone() -> None:
    bundle = json.loads(itk_ack(OURS, "20013"))
    bundle["entry"] = bundle["entry"][:1]
    ack = read_ack(json.dumps(bundle).encode())
    assert (ack.kind, ack.positive, ack_status(ack)) == (INFRASTRUCTURE, True, "delivered")


def test_a_code_that_says_ok_under_a_fatal_header_is_not_positive() -> None:
    bundle = json.loads(itk_ack(OURS, "30001"))
    bundle["entry"][0]["resource"]["response"]["code"] = "fatal-error"
    assert ack_status(read_ack(json.dumps(bundle).encode())) == "failed"


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (lambda b: b["entry"][0]["resource"]["event"].update(code="ITK007C"), "ITK008M"),
        (lambda b: b["entry"][0]["resource"].pop("response"), "response.identifier"),
        (lambda b: b["entry"].pop(0), "no MessageHeader"),
        (lambda b: b.pop("entry"), "not a Bundle"),
        (lambda b: b["entry"][1]["resource"]["issue"][0].update(details="oops"), "issue"),
        (lambda b: b["entry"][1]["resource"].update(issue=5), "issue"),
        (lambda b: b["entry"][1]["resource"]["issue"][0]["details"].update(coding=7), "issue"),
    ],
)
def test_what_is_not_an_itk3_response_is_refused_saying_why(spoil, why: str) -> None:  # type: ignore[no-untyped-def]
    bundle = json.loads(itk_ack(OURS, "20013"))
    spoil(bundle)
    with pytest.raises(AckError, match=why):
        read_ack(json.dumps(bundle).encode())


def test_a_body_that_is_not_json_is_refused() -> None:
    with pytest.raises(AckError, match="not JSON"):
        read_ack(b"\x89PNG")


def _with_display(code: str, display: str) -> bytes:
    bundle = json.loads(itk_ack(OURS, "30002", ok=False))
    coding = bundle["entry"][1]["resource"]["issue"][0]["details"]["coding"][0]
    coding.update(code=code, display=display)
    return json.dumps(bundle).encode()


def test_the_reason_is_our_display_of_the_code_never_the_practices_text() -> None:
    said = "Siobhan O'Brien-Smith, born 02/06/1988, is not registered here " + "x" * 5000
    ack = read_ack(_with_display("30002", said))
    assert ack.reason == "ITK3 response 30002: Patient not known here"


def test_a_code_we_do_not_know_is_not_echoed() -> None:
    ack = read_ack(_with_display("Siobhan O'Brien-Smith", "anything"))
    assert (ack.code, ack.reason, ack_status(ack)) == ("unknown", "ITK3 response unknown", "failed")


@pytest.mark.parametrize("code", ["20007", "20008"])
def test_a_duplicate_means_the_practice_has_it_not_that_it_failed(code: str) -> None:
    ack = read_ack(itk_ack(OURS, code, ok=False))
    assert (ack.kind, ack.positive, ack_status(ack)) == (INFRASTRUCTURE, True, "delivered")
