"""Where an extension may be used: its StructureDefinition's element contexts against its place."""

from __future__ import annotations

import functools

from adapter.conformance.definitions import definitions

# Contexts that admit an extension on any element, or on any resource (FHIR R4, 2.22 Extensibility).
# A resource is let pass as an Element too: no false alarm on a loosely written context.
ANY_ELEMENT = frozenset({"Element"})
ANY_RESOURCE = frozenset({"Resource", "DomainResource"})


def context_allows(contexts: tuple[str, ...], holder: str) -> bool:
    """Whether an extension with these element contexts may sit on `holder` (e.g. Patient.contact).

    An element path we cannot follow in the base spec is allowed: precision over recall.
    """
    names = element_names(holder)
    return names is None or any(context in names for context in contexts)


@functools.lru_cache(maxsize=4096)
def element_names(holder: str) -> frozenset[str] | None:
    """Every name a context may give the element at a JSON path; None when the path is unknown.

    `Patient.contact.telecom` is also `BackboneElement.telecom`, `ContactPoint` and `Element`: a
    context names a resource path, a data type, a path inside a data type, or a wildcard.
    """
    segments = holder.split(".")
    defs = definitions()
    if segments[0] not in defs.resource_types:
        return None
    types, parts = [segments[0]], []
    current = defs.type_map(segments[0])
    for segment in segments[1:]:
        element = current.elements.get(segment.removeprefix("_")) if current else None
        if element is None:
            return None
        parts.append(element.choice or element.key)  # a context names value[x], not valueQuantity
        types.append(element.type)
        current = element.children if element.children is not None else defs.type_map(element.type)
    names = {".".join([type_, *parts[k:]]) for k, type_ in enumerate(types)}
    names |= ANY_ELEMENT if len(segments) > 1 else ANY_ELEMENT | ANY_RESOURCE
    return frozenset(names)
