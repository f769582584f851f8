"""FHIR R4 validation against the base specification: structure, values, bindings, references.

validate_resource(payload) -> list[Issue]   a resource or a Bundle with its entries
outcome_for(issues) -> dict                 the OperationOutcome view of those issues
has_errors(issues) -> bool                  whether any issue rejects the payload
"""

from adapter.conformance.validate import has_errors, outcome_for, validate_resource

validate_bundle = validate_resource  # a Bundle is a resource: its entries are validated with it

__all__ = ["has_errors", "outcome_for", "validate_bundle", "validate_resource"]
