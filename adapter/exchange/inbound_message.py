"""What a received message says, read from its MessageHeader: codes, addressee and sender.

No Flask and no store here: $process-message (adapter.api.process_message) asks these questions
of a Bundle the validator has accepted, so every element read may still be absent.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapter.mapping import codes


@dataclass(frozen=True)
class MessageCodes:
    """The BaRS workflow variables of a message: event, reason and the focus's categories."""

    event: str | None
    reason: str | None
    categories: tuple[str, ...]  # message-category-servicerequest codes of the focus


def header_of(bundle: dict) -> dict:
    """The MessageHeader (the first entry), or {} if there is none."""
    entries = bundle.get("entry")
    first = entries[0] if isinstance(entries, list) and entries else None
    resource = first.get("resource") if isinstance(first, dict) else None
    is_header = isinstance(resource, dict) and resource.get("resourceType") == "MessageHeader"
    return resource if is_header else {}  # type: ignore[return-value]


def resolve(bundle: dict, reference: object) -> dict | None:
    """The entry resource a literal reference points at (by fullUrl, else by Type/id).

    A relative reference also finds the entry whose absolute fullUrl ends with it.
    """
    if not isinstance(reference, str) or not reference:
        return None
    tail = reference.rsplit("/", 2)[-2:] if "/" in reference else None
    for entry in bundle.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        full = entry.get("fullUrl")
        if full == reference or (isinstance(full, str) and full.endswith("/" + reference)):
            return resource
        if tail == [resource.get("resourceType"), resource.get("id")]:
            return resource
    return None


def message_codes(bundle: dict, header: dict) -> MessageCodes:
    """Event and reason codes (only from the BaRS systems) and the focus's BaRS categories."""
    event = header.get("eventCoding")
    event_code = None
    if isinstance(event, dict) and event.get("system") == codes.url("inbound.event-system"):
        event_code = event.get("code") if isinstance(event.get("code"), str) else None
    reason_codes = _codes((header.get("reason"),), codes.url("inbound.reason-system"))
    focus = header.get("focus")
    first = focus[0] if isinstance(focus, list) and focus else None
    target = resolve(bundle, first.get("reference")) if isinstance(first, dict) else None
    categories = _codes((target or {}).get("category"), codes.url("inbound.category-system"))
    return MessageCodes(event_code, reason_codes[0] if reason_codes else None, tuple(categories))


def _codes(concepts: object, system: str) -> list[str]:
    found: list[str] = []
    for concept in concepts if isinstance(concepts, list | tuple) else ():
        for coding in concept.get("coding") or () if isinstance(concept, dict) else ():
            code = coding.get("code") if isinstance(coding, dict) else None
            if coding.get("system") == system and isinstance(code, str) and code not in found:
                found.append(code)
    return found


def addressed_to(bundle: dict, header: dict, endpoint: str, ods: str, mailbox: str = "") -> bool:
    """True if a destination's endpoint is ours (a trailing slash aside) or its receiver is us.

    Our MESH mailbox id (case aside, as MESH's) is our endpoint too, for messages sent by MESH.
    """
    ours = endpoint.rstrip("/")
    for destination in header.get("destination") or ():
        if not isinstance(destination, dict):
            continue
        address = destination.get("endpoint")
        if isinstance(address, str) and address.rstrip("/") == ours:
            return True
        if mailbox and isinstance(address, str) and address.upper() == mailbox.upper():
            return True
        if organisation_ods(bundle, destination.get("receiver")) == ods:
            return True
    return False


def organisation_ods(bundle: dict, reference: object) -> str | None:
    """The ODS code of an Organization reference: by identifier, or of the entry it points at."""
    if not isinstance(reference, dict):
        return None
    identifier = reference.get("identifier")
    if isinstance(identifier, dict):
        found = _ods([identifier])
        if found:
            return found
    target = resolve(bundle, reference.get("reference"))
    if target is None or target.get("resourceType") != "Organization":
        return None
    return _ods(target.get("identifier"))


def _ods(identifiers: object) -> str | None:
    """The ODS code among identifiers; the system's case is ignored, as NHS England's own BaRS
    examples write https://fhir.nhs.uk/id/ods-organization-code."""
    system = codes.url("identifier.ods-organization-code").lower()
    for identifier in identifiers if isinstance(identifiers, list) else ():
        if not isinstance(identifier, dict) or not isinstance(identifier.get("system"), str):
            continue
        value = identifier.get("value")
        if identifier["system"].lower() == system and isinstance(value, str) and value:
            return value
    return None


def source_endpoint(header: dict) -> str | None:
    """MessageHeader.source.endpoint: where replies go."""
    source = header.get("source")
    endpoint = source.get("endpoint") if isinstance(source, dict) else None
    return endpoint if isinstance(endpoint, str) and endpoint else None
