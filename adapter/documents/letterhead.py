"""A letterhead from the service directory: the HealthcareService and its providing Organization."""

from __future__ import annotations

from collections.abc import Iterable

from adapter.documents.model import Letterhead

TELECOM_LABELS = {"phone": "Phone", "email": "Email", "url": "Web", "fax": "Fax", "sms": "Text"}
# A header has room for a few lines; the directory lists the team's main numbers first (rank 1).
MAX_CONTACT_LINES = 3


def letterhead_for_service(resources: Iterable[dict], service_id: str) -> Letterhead:
    """The letterhead of HealthcareService `service_id`; ValueError if the directory lacks it."""
    by_reference = {f"{r['resourceType']}/{r['id']}": r for r in resources}
    service = by_reference.get(f"HealthcareService/{service_id}")
    if service is None:
        raise ValueError(f"HealthcareService/{service_id} is not in the service directory")
    organisation = by_reference.get(service.get("providedBy", {}).get("reference", ""), {})
    return Letterhead(
        service_name=service.get("name") or service_id,
        organisation_name=organisation.get("name"),
        contact=_contact_lines([*service.get("telecom", []), *organisation.get("telecom", [])]),
        address=_address_lines(organisation.get("address", [])),
    )


def _contact_lines(telecoms: list[dict]) -> tuple[str, ...]:
    """'Phone: …' lines, best ranked first, without repeats."""
    ordered = sorted(telecoms, key=lambda t: t.get("rank", 99))
    lines: list[str] = []
    for telecom in ordered:
        value = telecom.get("value")
        label = TELECOM_LABELS.get(telecom.get("system", ""), "Contact")
        line = f"{label}: {value}"
        if value and line not in lines:
            lines.append(line)
    return tuple(lines[:MAX_CONTACT_LINES])


def _address_lines(addresses: list[dict]) -> tuple[str, ...]:
    """The first work (or any) address as printable lines."""
    if not addresses:
        return ()
    address = next((a for a in addresses if a.get("use") == "work"), addresses[0])
    if address.get("text"):
        return (address["text"],)
    parts = [*address.get("line", []), address.get("city"), address.get("postalCode")]
    return tuple(part for part in parts if part)
