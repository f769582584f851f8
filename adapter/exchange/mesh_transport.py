"""MESH: send an outbox message from our mailbox to a partner's, as one MESH message.

The envelope is per message, in OutboundMessage.headers (stored with the outbox row), with
defaults from the Endpoint and the message:

    Mex-To          the Endpoint's address (the partner's mailbox id)
    Mex-WorkflowID  the Endpoint's header "Mex-WorkflowID: …"
    Mex-LocalID     the message's request_id (the receiver's duplicate key)
    Mex-Subject     the message's correlation_id

The body is the outbox body as JSON (application/fhir+json). MESH's answers are classified once:

    200, 202                                         Delivered
    403, 401 (our mailbox's password or shared key)  TryAgain: our configuration, not the message;
                                                     fixed, the waiting messages go (until their
                                                     time to live ends)
    408, 425, 429, 5xx, no connection, no answer     TryAgain
    other 4xx (unknown mailbox, bad workflow …)      Rejected (dead-letter)
    a header that is not ASCII                       Rejected, before any request

Reasons are short and fixed: the status and MESH's error code, never an address (a GP Connect
Mex-To holds an NHS number) and never a credential. A send is not idempotent in MESH: an attempt
that timed out after MESH took it may be sent again, and the receiver drops it by Mex-LocalID.
"""

from __future__ import annotations

import logging
import re
import threading

import orjson
import requests
from mesh_client import MeshClient

from adapter.exchange.mesh_connection import mesh_client
from adapter.exchange.model import (
    Delivered,
    DeliveryResult,
    OutboundMessage,
    Rejected,
    Transport,
    TryAgain,
)
from adapter.exchange.partners import mesh_workflow
from adapter.settings import Settings

logger = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json"
TO, WORKFLOW, LOCAL_ID, SUBJECT = "Mex-To", "Mex-WorkflowID", "Mex-LocalID", "Mex-Subject"
TRANSIENT_STATUSES = frozenset({408, 425, 429})
AUTH_STATUSES = frozenset({401, 403})
MAX_BYTES = 75 * 1024 * 1024  # one MESH chunk: larger messages would need chunking
_PLAIN = re.compile(r"[A-Za-z ,.'-]{1,80}")  # MESH's fixed error texts; anything else is left out


class MeshTransport(Transport):
    """Sends outbox messages through our MESH mailbox (one client, built on first use)."""

    name = "mesh"

    def __init__(self, settings: Settings, client: MeshClient | None = None) -> None:
        self._settings = settings
        self._client = client
        self._lock = threading.Lock()  # one send at a time on the client's session

    def send(self, message: OutboundMessage, endpoint: dict) -> DeliveryResult:
        """Deliver `message` to the mailbox `endpoint` names; never raises for MESH's failure."""
        if not self._settings.mesh_enabled:
            return TryAgain("MESH is not configured here: set LD_ADAPTER_MESH_URL and its mailbox")
        envelope = mesh_envelope(message, endpoint)
        missing = [name for name in (TO, WORKFLOW) if not envelope.get(name)]
        if missing:
            return Rejected(f"configuration: no {' or '.join(missing)} for this message")
        # requests would raise UnicodeEncodeError at every attempt: no retry can mend it
        not_ascii = [name for name, header in envelope.items() if not header.isascii()]
        if not_ascii:
            return Rejected(f"the MESH envelope must be ASCII: {', '.join(sorted(not_ascii))}")
        body = orjson.dumps(message.body)
        if len(body) > MAX_BYTES:
            return Rejected("the message is larger than one MESH chunk")
        with self._lock:
            return self._attempt(message.id, envelope, body)

    def close(self) -> None:
        """Close the client's connections."""
        if self._client is not None:
            self._client.close()

    def _attempt(self, message_id: str, envelope: dict[str, str], body: bytes) -> DeliveryResult:
        if self._client is None:
            self._client = mesh_client(self._settings)
        try:
            response = self._client.send_chunk(
                recipient=envelope[TO],
                chunk=body,
                chunk_num=1,
                total_chunks=1,
                workflow_id=envelope[WORKFLOW],
                local_id=envelope.get(LOCAL_ID, ""),
                subject=envelope.get(SUBJECT, ""),
                content_type=FHIR_JSON,
            )
        except requests.HTTPError as exc:  # mesh-client raises for a 5xx
            if exc.response is None:
                return TryAgain("MESH failed without an answer")
            return classify(exc.response)
        except requests.RequestException as exc:
            return failed(exc, self._settings.mesh_timeout)
        result = classify(response)
        if isinstance(result, Delivered):  # MESH's id finds it in MESH's tracking
            logger.info("message %s is MESH message %s", message_id, _sent_id(response))
        return result


def mesh_envelope(message: OutboundMessage, endpoint: dict) -> dict[str, str]:
    """The MESH headers of one message: its own, else the defaults from the Endpoint."""
    envelope = {
        TO: endpoint.get("address") if isinstance(endpoint.get("address"), str) else "",
        WORKFLOW: mesh_workflow(endpoint) or "",
        LOCAL_ID: message.request_id,
        SUBJECT: message.correlation_id,
    }
    for name in (TO, WORKFLOW, LOCAL_ID, SUBJECT):
        value = message.headers.get(name)
        if isinstance(value, str) and value:
            envelope[name] = value
    return {name: str(value) for name, value in envelope.items()}


def classify(response: requests.Response) -> DeliveryResult:
    """What MESH's answer to a send means for the message."""
    status = response.status_code
    if status in (200, 202):
        return Delivered(status)
    if status in AUTH_STATUSES:
        return TryAgain(
            f"MESH refused our mailbox's credentials (HTTP {status}): check "
            "LD_ADAPTER_MESH_MAILBOX, _PASSWORD and _SHARED_KEY",
            status,
        )
    if status in TRANSIENT_STATUSES or status >= 500:
        return TryAgain(f"MESH HTTP {status}", status)
    return Rejected(f"MESH HTTP {status}{error_detail(response)}", status)


def _answer(response: requests.Response) -> object:
    """MESH's JSON answer, or None when it sent none that parses."""
    try:
        return orjson.loads(response.content or b"{}")
    except orjson.JSONDecodeError:
        return None


def _sent_id(response: requests.Response) -> str:
    """The message id MESH gave an accepted message ("-" if it gave none)."""
    answer = _answer(response)
    found = answer.get("message_id") if isinstance(answer, dict) else None
    return found if isinstance(found, str) and found.isalnum() else "-"


def error_detail(response: requests.Response) -> str:
    """': <event> <code> <text>' from a MESH error answer, its fixed parts only."""
    answer = _answer(response)
    details = answer.get("detail") if isinstance(answer, dict) else None
    first = details[0] if isinstance(details, list) and details else answer
    if not isinstance(first, dict):
        return ""
    parts = [
        str(first.get(key))
        for key in ("event", "errorEvent", "code", "errorCode")
        if isinstance(first.get(key), str | int) and str(first.get(key)).isalnum()
    ]
    text = first.get("msg") or first.get("errorDescription")
    if isinstance(text, str) and _PLAIN.fullmatch(text):
        parts.append(text)
    return f": {' '.join(parts)}" if parts else ""


def failed(exc: requests.RequestException, timeout: float) -> DeliveryResult:
    """A request that got no answer from MESH: transient."""
    if isinstance(exc, requests.Timeout):
        return TryAgain(f"MESH gave no answer within {timeout:g} s")
    if isinstance(exc, requests.exceptions.SSLError):
        return TryAgain("MESH TLS handshake failed")
    if isinstance(exc, requests.ConnectionError):
        return TryAgain("MESH connection failed")
    return TryAgain(f"MESH request failed: {type(exc).__name__}")
