"""The adapter's one error tree; `adapter.api.errors` turns each into an OperationOutcome.

    AdapterError                 500  exception      REC_SERVER_ERROR
    ├── InvalidInput             400  invalid        REC_BAD_REQUEST   (bad JSON, field, parameter)
    ├── Unauthorized             401  login          REC_UNAUTHORIZED
    ├── Forbidden                403  forbidden      REC_FORBIDDEN
    ├── NotFound                 404  not-found      REC_NOT_FOUND
    ├── MethodNotAllowed         405  not-supported  REC_METHOD_NOT_ALLOWED
    ├── NotAcceptable            406  not-supported  REC_NOT_ACCEPTABLE
    ├── Conflict                 409  conflict       REC_CONFLICT
    ├── PreconditionFailed       412  conflict       REC_PRECONDITION_FAILED
    ├── PayloadTooLarge          413  too-costly     REC_PAYLOAD_TOO_LARGE
    ├── UnsupportedMediaType     415  not-supported  REC_UNSUPPORTED_MEDIA_TYPE
    ├── Unprocessable            422  processing     REC_UNPROCESSABLE_ENTITY (breaks a rule)
    └── ServiceUnavailable       503  timeout        REC_SERVICE_UNAVAILABLE (database too slow)

Every error carries one or more `Issue`s. An issue's `diagnostics` must never contain patient data:
name the field and what was expected, never echo the value that was sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

HTTP_ERROR_CODES = "https://fhir.nhs.uk/Codesystem/http-error-codes"


@dataclass(frozen=True)
class Issue:
    """One problem, in OperationOutcome.issue terms."""

    diagnostics: str
    code: str = "invalid"
    severity: str = "error"
    expression: tuple[str, ...] = ()
    message_id: str | None = None

    def to_fhir(self, details_code: str | None = None) -> dict:
        """This issue as an OperationOutcome.issue element."""
        issue: dict = {"severity": self.severity, "code": self.code}
        codings = []
        if details_code:
            codings.append({"system": HTTP_ERROR_CODES, "code": details_code})
        if self.message_id:
            codings.append({"system": MESSAGE_ID_SYSTEM, "code": self.message_id})
        if codings:
            issue["details"] = {"coding": codings}
        issue["diagnostics"] = self.diagnostics
        if self.expression:
            issue["expression"] = list(self.expression)
        return issue


MESSAGE_ID_SYSTEM = "https://ld-adapter.github.io/fhir/CodeSystem/ld-message-id"


class AdapterError(Exception):
    """Base of every error the adapter raises on purpose."""

    status = 500
    default_code = "exception"
    details_code = "REC_SERVER_ERROR"

    def __init__(self, issues: Issue | str | Iterable[Issue], **issue_fields: object) -> None:
        if isinstance(issues, str):
            issue_fields.setdefault("code", self.default_code)
            issues = [Issue(issues, **issue_fields)]  # type: ignore[arg-type]
        elif isinstance(issues, Issue):
            issues = [issues]
        self.issues = list(issues)
        super().__init__("; ".join(i.diagnostics for i in self.issues))

    def operation_outcome(self) -> dict:
        """The OperationOutcome a client receives for this error."""
        return operation_outcome(self.issues, self.details_code)


class InvalidInput(AdapterError):
    """The request is malformed: bad JSON, a wrong field, a bad parameter."""

    status = 400
    default_code = "invalid"
    details_code = "REC_BAD_REQUEST"


class Unauthorized(AdapterError):
    """No usable credentials."""

    status = 401
    default_code = "login"
    details_code = "REC_UNAUTHORIZED"


class Forbidden(AdapterError):
    """Credentials are fine but do not grant this."""

    status = 403
    default_code = "forbidden"
    details_code = "REC_FORBIDDEN"


class NotFound(AdapterError):
    """No such resource, record or route."""

    status = 404
    default_code = "not-found"
    details_code = "REC_NOT_FOUND"


class MethodNotAllowed(AdapterError):
    """The route exists but not for this HTTP method."""

    status = 405
    default_code = "not-supported"
    details_code = "REC_METHOD_NOT_ALLOWED"


class NotAcceptable(AdapterError):
    """The client accepts no format we can produce."""

    status = 406
    default_code = "not-supported"
    details_code = "REC_NOT_ACCEPTABLE"


class Conflict(AdapterError):
    """The request conflicts with what is stored."""

    status = 409
    default_code = "conflict"
    details_code = "REC_CONFLICT"


class PreconditionFailed(AdapterError):
    """An If-Match version does not match the current one."""

    status = 412
    default_code = "conflict"
    details_code = "REC_PRECONDITION_FAILED"


class PayloadTooLarge(AdapterError):
    """The body is over the configured limit."""

    status = 413
    default_code = "too-costly"
    details_code = "REC_PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(AdapterError):
    """The body's content type is not one we read."""

    status = 415
    default_code = "not-supported"
    details_code = "REC_UNSUPPORTED_MEDIA_TYPE"


class Unprocessable(AdapterError):
    """Well-formed, but breaks a business rule."""

    status = 422
    default_code = "processing"
    details_code = "REC_UNPROCESSABLE_ENTITY"


def operation_outcome(issues: Iterable[Issue], details_code: str | None = None) -> dict:
    """Build an OperationOutcome resource from issues."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [issue.to_fhir(details_code) for issue in issues],
    }


class ServiceUnavailable(AdapterError):
    """The request was fine but could not be answered in time; the client may retry."""

    status = 503
    default_code = "timeout"
    details_code = "REC_SERVICE_UNAVAILABLE"
