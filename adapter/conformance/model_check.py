"""A second opinion from the fhir.resources R4B pydantic models, with loc -> FHIRPath mapping.

Not on the hot path: the walker finds everything the models find (a test holds it to that) at a
fraction of the cost. Kept for cross-checks and for diagnosing disagreements.
"""

from __future__ import annotations

import importlib

from adapter.errors import Issue

_SKIP_LOC = frozenset({"root"})  # pydantic's pseudo-fields, not FHIR elements


def loc_to_fhirpath(root: str, loc: tuple[int | str, ...]) -> str:
    """('entry', 3, 'resource', 'item', 0) -> 'Bundle.entry[3].resource.item[0]'."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in _SKIP_LOC and not part.startswith("function-"):
            path += f".{part.removeprefix('_')}"  # `_birthDate` extends birthDate
    return path


def model_issues(resource: dict) -> list[Issue]:
    """Issues the R4B model raises for a parsed resource (empty when the model accepts it)."""
    pydantic = importlib.import_module("pydantic")
    r4b = importlib.import_module("fhir.resources.R4B")
    rtype = resource.get("resourceType")
    try:
        model = r4b.get_fhir_model_class(str(rtype))
    except (KeyError, ValueError, AttributeError):
        return [Issue("R4B has no such resource type", "structure", expression=(str(rtype),))]
    try:
        model.model_validate(resource)
    except pydantic.ValidationError as exc:
        return [
            Issue(
                f"R4B model: {err['type']}",
                "required" if err["type"].endswith("missing") else "structure",
                expression=(loc_to_fhirpath(str(rtype), err["loc"]),),
                message_id="LD-MODEL-R4B",
            )
            for err in exc.errors()
        ]
    except (KeyError, TypeError) as exc:  # R4-only types inside a Bundle raise a bare KeyError
        return [
            Issue(f"R4B model failed: {type(exc).__name__}", "structure", expression=(str(rtype),))
        ]
    return []
