"""Check an STU3 message (an ITK3 Bundle) against the fhir.resources STU3 models, one by one.

Our validator knows R4; ITK3 messages for GP practices are STU3, so each resource in them, and in
any Bundle inside them, is parsed with its STU3 model before the message is queued.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import ValidationError

from adapter.errors import Issue, Unprocessable


def stu3_problems(resource: dict, where: str = "Bundle") -> list[str]:
    """What the STU3 models refuse in `resource` and everything inside it; [] when it parses.

    The problems name the element and the rule broken, never the value (which may name the person).
    """
    from fhir.resources.STU3 import get_fhir_model_class

    problems: list[str] = []
    for path, item in _resources(resource, where):
        try:
            get_fhir_model_class(str(item.get("resourceType"))).model_validate(item)
        except (KeyError, ValueError) as exc:
            errors = exc.errors(include_input=False) if isinstance(exc, ValidationError) else ()
            problems.extend(f"{path}{_where(e['loc'])}: {e['msg']}" for e in errors)
            if not errors:
                problems.append(f"{path}: not an STU3 resource type")
    # A Bundle's model checks what is inside it too: each problem once, where it is.
    return list(dict.fromkeys(problems))


def _where(loc: tuple) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)


def ensure_stu3(message: dict) -> None:
    """Unprocessable (422) listing what the STU3 models refuse, so nothing is queued."""
    problems = stu3_problems(message)
    if problems:
        raise Unprocessable(
            [Issue(f"The GP Connect message would not be valid FHIR STU3: {p}") for p in problems]
        )


def _resources(resource: dict, path: str) -> Iterator[tuple[str, dict]]:
    yield path, resource
    for index, entry in enumerate(resource.get("entry", ()) if _is_bundle(resource) else ()):
        inner = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(inner, dict):
            yield from _resources(inner, f"{path}.entry[{index}].resource")


def _is_bundle(resource: dict) -> bool:
    return resource.get("resourceType") == "Bundle"
