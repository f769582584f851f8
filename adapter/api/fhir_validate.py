"""`$validate` (POST /fhir/$validate, POST /fhir/{type}/$validate): the validator over HTTP.

As the FHIR spec has it, 200 means "validation was performed": the OperationOutcome says whether the
resource is valid. A body that is not JSON at all is still answered with the issues found.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from adapter.api.context import current_settings
from adapter.api.fhir_format import fhir_response, negotiate
from adapter.api.http import FHIR_JSON_TYPES, read_json_body
from adapter.api.observe import note_validation
from adapter.conformance import has_errors, outcome_for, validate
from adapter.conformance.limits import check_validation_work, most_severe
from adapter.errors import InvalidInput, Issue

validate_blueprint = Blueprint("fhir_validate", __name__)
validate_blueprint.before_request(negotiate)

_PROFILE_VALUES = ("valueUri", "valueCanonical", "valueString")


@validate_blueprint.post("/$validate")
def validate_any() -> Response:
    """Validate a resource of any type."""
    return _validate(None)


@validate_blueprint.post("/<resource_type>/$validate")
def validate_typed(resource_type: str) -> Response:
    """Validate a resource that must be of the type in the URL."""
    return _validate(resource_type)


def _validate(expected_type: str | None) -> Response:
    body = read_json_body(FHIR_JSON_TYPES)
    settings = current_settings()
    check_validation_work(body, settings)
    resource, profile = _unwrap(body)
    profile = request.args.get("profile", profile)
    issues = validate(resource, profile=profile or None)
    found_type = resource.get("resourceType") if isinstance(resource, dict) else None
    if expected_type and isinstance(found_type, str) and found_type != expected_type:
        issues.insert(
            0,
            Issue(
                f"The URL names {_safe(expected_type)} but the resource is a {found_type}.",
                code="invalid",
                expression=(found_type,),
                message_id="LD-VALIDATE-WRONG-TYPE",
            ),
        )
    note_validation(not has_errors(issues))
    return fhir_response(outcome_for(most_severe(issues, settings.max_validate_issues)))


def _unwrap(body: object) -> tuple[object, str | None]:
    """The resource to check and any profile, from a Parameters body or a bare resource."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        return body, None
    resource: object = None
    profile: str | None = None
    parameters = body.get("parameter")
    for parameter in parameters if isinstance(parameters, list) else []:
        if not isinstance(parameter, dict):
            continue
        if parameter.get("name") == "resource":
            resource = parameter.get("resource")
        elif parameter.get("name") == "profile":
            profile = next((parameter[k] for k in _PROFILE_VALUES if k in parameter), None)
    if resource is None:
        raise InvalidInput(
            Issue(
                "A Parameters body needs a parameter named resource holding the resource to check.",
                code="required",
                expression=("Parameters.parameter",),
            )
        )
    return resource, profile if isinstance(profile, str) else None


def _safe(resource_type: str) -> str:
    return resource_type if resource_type.isalpha() and len(resource_type) <= 64 else "another type"
