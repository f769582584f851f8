"""FHIR R4 validation: the base specification, and this adapter's profiles and messages.

validate(payload, profile=None) -> list[Issue]   base + our profiles + messages + questionnaires
validate_resource(payload) -> list[Issue]         the base-spec check alone (resource or Bundle)
outcome_for(issues) -> dict                       the OperationOutcome view of those issues
has_errors(issues) -> bool                        whether any issue rejects the payload
conformance_resources(type) / conformance_resource(type, id)   what the package publishes
"""

from adapter.conformance.full import validate
from adapter.conformance.package import conformance_resource, conformance_resources
from adapter.conformance.validate import has_errors, outcome_for, validate_resource

validate_bundle = validate_resource  # a Bundle is a resource: its entries are validated with it

__all__ = [
    "conformance_resource",
    "conformance_resources",
    "has_errors",
    "outcome_for",
    "validate",
    "validate_bundle",
    "validate_resource",
]
