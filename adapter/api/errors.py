"""The one place errors become OperationOutcome responses; never a stack trace to a client."""

from __future__ import annotations

import logging
import traceback
import uuid

import orjson
from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from adapter.api.observe import note_error_code
from adapter.errors import (
    AdapterError,
    InvalidInput,
    Issue,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    operation_outcome,
)

log = logging.getLogger(__name__)

_HTTP_ERRORS: dict[int, type[AdapterError]] = {
    400: InvalidInput,
    404: NotFound,
    405: MethodNotAllowed,
    413: PayloadTooLarge,
}
_HTTP_MESSAGES = {
    400: "The request could not be read.",
    404: "There is nothing at this address.",
    405: "This address does not support the HTTP method used.",
    413: "The request body is larger than this server accepts.",
}


def outcome_response(outcome: dict, status: int, headers: dict[str, str] | None = None) -> Response:
    """An OperationOutcome response in the media type the calling API speaks."""
    media_type = "application/fhir+json" if request.path.startswith("/fhir") else "application/json"
    return Response(
        orjson.dumps(outcome),
        status=status,
        headers=headers,
        content_type=f"{media_type}; charset=utf-8",
    )


def _adapter_error(error: AdapterError) -> Response:
    if error.issues:
        note_error_code(error.issues[0].code)
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="ld-adapter", error="invalid_token"'
    if error.status == 503:
        headers["Retry-After"] = "5"
    return outcome_response(error.operation_outcome(), error.status, headers)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    error_type = _HTTP_ERRORS.get(status)
    if error_type is None:
        return _unexpected(error)
    adapter_error = error_type(_HTTP_MESSAGES[status])
    response = _adapter_error(adapter_error)
    if status == 405 and error.get_response().headers.get("Allow"):
        response.headers["Allow"] = error.get_response().headers["Allow"]
    return response


def _unexpected(error: Exception) -> Response:
    reference = uuid.uuid4().hex
    # An exception's text can hold patient data (a database error quotes the row that failed):
    # log what kind of error and where it happened, never its message.
    where = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
    log.error("unexpected %s, reference %s\n%s", type(error).__name__, reference, where)
    outcome = operation_outcome(
        [
            Issue(
                f"The server met an unexpected problem (reference {reference}).",
                code="exception",
            )
        ],
        "REC_SERVER_ERROR",
    )
    return outcome_response(outcome, 500)


def init_app(app: Flask) -> None:
    """Register the handlers on an app."""
    app.register_error_handler(AdapterError, _adapter_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
