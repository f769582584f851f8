"""FHIR messaging over HTTP: POST a message Bundle to `{Endpoint.address}/$process-message`.

Every answer is classified once, here, into what the worker does next:

    2xx, 409 with issue code `duplicate`       Delivered   (the partner has it)
    408, 425, 429, 5xx, timeout, no connection TryAgain    (Retry-After kept, capped)
    401 (after one fresh OAuth2 token), 3xx,   Rejected    (the partner's OperationOutcome kept)
    other 4xx, a configuration error

Reasons are short and fixed: status codes and OperationOutcome codes, never diagnostics text or
a URL's query, which could hold patient data, and never a credential.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime

import orjson
import requests
from requests.adapters import HTTPAdapter

from adapter.exchange.endpoint_auth import (
    OAUTH2,
    AuthConfigError,
    Credentials,
    EndpointAuth,
    TokenUnavailable,
    endpoint_auth,
)
from adapter.exchange.model import (
    Delivered,
    DeliveryResult,
    OutboundMessage,
    Rejected,
    Transport,
    TryAgain,
)
from adapter.settings import Settings

FHIR_JSON = "application/fhir+json"
PROCESS_MESSAGE = "$process-message"
TRANSIENT_STATUSES = frozenset({408, 425, 429})
CONNECT_TIMEOUT = 3.05  # seconds; a partner that cannot accept a connection in 3 s is down
MAX_RETRY_AFTER = 3600.0  # seconds; a longer wait is left to the worker's backoff and time to live
# RFC 9110 delta-seconds are whole, but partners send "1.5" too; ASCII only ("²".isdigit() is True)
DELTA_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
POOL_SIZE = 16  # keep-alive connections per partner host, shared by the worker's threads


def new_session() -> requests.Session:
    """A session for partners: keep-alive pools, and no settings taken from the environment."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=POOL_SIZE, pool_maxsize=POOL_SIZE, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class FhirMessagingTransport(Transport):
    """Sends outbox messages to partners' FHIR messaging Endpoints (one keep-alive session)."""

    name = "fhir-messaging"

    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        self._session = session if session is not None else new_session()
        # Proxies and CA bundles from the environment (REQUESTS_CA_BUNDLE) must not apply silently.
        self._session.trust_env = False
        self._timeout_seconds = settings.delivery_timeout
        self._timeout = (min(CONNECT_TIMEOUT, settings.delivery_timeout), settings.delivery_timeout)
        self._credentials = Credentials(self._session, self._timeout)

    def send(self, message: OutboundMessage, endpoint: dict) -> DeliveryResult:
        """Deliver `message` to the partner at `endpoint`; never raises for a partner's failure."""
        try:
            auth = endpoint_auth(endpoint)
            url = process_message_url(endpoint)
        except AuthConfigError as exc:
            return Rejected(f"configuration: {exc}")
        result = self._attempt(message, url, auth)
        if auth.type == OAUTH2 and isinstance(result, Rejected) and result.status_code == 401:
            # The token may have been revoked before its time: one fresh token, same X-Request-Id.
            self._credentials.forget(auth)
            result = self._attempt(message, url, auth)
        return result

    def close(self) -> None:
        """Close the kept-alive connections."""
        self._session.close()

    def _attempt(self, message: OutboundMessage, url: str, auth: EndpointAuth) -> DeliveryResult:
        try:
            headers = {
                **message.headers,
                **self._headers(message),
                **self._credentials.headers(auth),
            }
            tls = self._credentials.tls(auth)
        except AuthConfigError as exc:
            return Rejected(f"configuration: {exc}")
        except TokenUnavailable as exc:
            return TryAgain(exc.reason) if exc.transient else Rejected(exc.reason)
        try:
            response = self._session.post(
                url,
                data=orjson.dumps(message.body),
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
                **tls,
            )
        except requests.RequestException as exc:
            return self._failed(exc)
        except ValueError as exc:  # e.g. a header value (a token) that is not Latin-1
            return Rejected(f"request failed: {type(exc).__name__}")
        return classify(response)

    @staticmethod
    def _headers(message: OutboundMessage) -> dict[str, str]:
        return {
            "Content-Type": FHIR_JSON,
            "Accept": FHIR_JSON,
            "X-Request-Id": message.request_id,
            "X-Correlation-Id": message.correlation_id,
        }

    def _failed(self, exc: requests.RequestException) -> DeliveryResult:
        """A request that got no HTTP answer: transient unless it could never work."""
        if isinstance(exc, requests.ConnectTimeout):
            return TryAgain(f"no connection within {self._timeout[0]:g} s")
        if isinstance(exc, requests.Timeout):
            return TryAgain(f"no answer within {self._timeout_seconds:g} s")
        if isinstance(exc, requests.exceptions.SSLError):
            return TryAgain("TLS handshake failed")
        if isinstance(exc, requests.ConnectionError):
            return TryAgain("connection failed")
        if isinstance(exc, requests.exceptions.ChunkedEncodingError):
            return TryAgain("answer cut short")
        return Rejected(f"request failed: {type(exc).__name__}")


def process_message_url(endpoint: dict) -> str:
    """`{address}/$process-message`; AuthConfigError if the address is not an http(s) base."""
    address = endpoint.get("address")
    if not isinstance(address, str) or not address.startswith(("https://", "http://")):
        raise AuthConfigError("Endpoint.address must be an http(s) FHIR base")
    if "?" in address or "#" in address:
        raise AuthConfigError("Endpoint.address must be a FHIR base, without a query")
    return f"{address.rstrip('/')}/{PROCESS_MESSAGE}"


def classify(response: requests.Response) -> DeliveryResult:
    """What a partner's HTTP answer means for the message."""
    status = response.status_code
    body = fhir_body(response)
    if 200 <= status < 300:
        return Delivered(status, body)
    outcome = body if body and body.get("resourceType") == "OperationOutcome" else None
    if status == 409 and "duplicate" in issue_codes(outcome):
        return Delivered(status, outcome)  # it was accepted before: X-Request-Id is the key
    if status in TRANSIENT_STATUSES or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return TryAgain(f"HTTP {status}", status, retry_after)
    return Rejected(_reason(status, outcome), status, outcome)


def _reason(status: int, outcome: dict | None) -> str:
    if 300 <= status < 400:
        return f"HTTP {status}: the partner redirects; check the Endpoint address"
    found = issue_codes(outcome)
    return f"HTTP {status}: {', '.join(found)}" if found else f"HTTP {status}"


def fhir_body(response: requests.Response) -> dict | None:
    """The answer's FHIR resource, if it is one."""
    if not response.content:
        return None
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) and isinstance(body.get("resourceType"), str) else None


def issue_codes(outcome: dict | None) -> list[str]:
    """The issue codes and NHS error codes of an OperationOutcome (codes only: no diagnostics)."""
    found: list[str] = []
    issues = outcome.get("issue") if outcome else None
    for issue in issues if isinstance(issues, list) else ():
        if not isinstance(issue, dict):
            continue
        codings = (issue.get("details") or {}).get("coding") or []
        for code in [issue.get("code"), *(c.get("code") for c in codings if isinstance(c, dict))]:
            if isinstance(code, str) and _is_code(code) and code not in found:
                found.append(code)
    return found


def _is_code(text: str) -> bool:
    return 0 < len(text) <= 64 and text.replace("-", "").replace("_", "").isalnum()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (decimal delta-seconds or HTTP-date), capped."""
    if value is None:
        return None
    value = value.strip()
    if DELTA_SECONDS.fullmatch(value):
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP-dates are GMT
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)
