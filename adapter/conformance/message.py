"""The message tier: a message Bundle against our MessageDefinitions (header, focus, counts)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from adapter.conformance.bundle import BundleIndex
from adapter.conformance.messages import issue
from adapter.conformance.package import Package
from adapter.errors import Issue

BARS_EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
# Event code systems NHS England has replaced by message-events-bars: flagged, not matched.
OLD_EVENT_SYSTEMS = frozenset(
    {
        "https://fhir.nhs.uk/CodeSystem/message-event",
        "https://fhir.nhs.uk/CodeSystem/message-event-servicerequest",
    }
)


@dataclass
class MessageResult:
    """Issues found, and the profiles our MessageDefinition implies for each entry index."""

    issues: list[Issue] = field(default_factory=list)
    implied: dict[int, list[str]] = field(default_factory=dict)


def message_issues(bundle: dict, path: str, pkg: Package) -> MessageResult:
    """Header, focus, event and focus counts of a Bundle of type message; linear in its size."""
    out = MessageResult()
    entries = bundle.get("entry")
    if not isinstance(entries, list) or not entries:
        return out  # the base tier reports a message without entries
    resources = [e.get("resource") if isinstance(e, dict) else None for e in entries]
    header = resources[0]
    if not isinstance(header, dict) or header.get("resourceType") != "MessageHeader":
        return out  # bdl-12, reported by the base tier
    at = f"{path}.entry[0].resource"
    index = BundleIndex.build(bundle)
    focus_types = _focus(header, at, index, out)
    definition = _definition(header, at, pkg, out)
    if definition is None:
        return out
    rows = [r for r in definition.get("focus", []) if isinstance(r, dict)]
    name = str(definition.get("name") or definition.get("id"))
    primary = next(
        (r.get("code") for r in rows if r.get("code") not in ("Bundle", "MessageHeader")), None
    )
    for i, ftype in focus_types:
        if primary is not None and ftype != primary:
            why = f"focus must point at the {primary} of {name}, not a {ftype}"
            out.issues.append(issue("LD-MSG-FOCUS-TYPE", f"{at}.focus[{i}]", why))
    ours = {
        r["code"]: r["profile"]
        for r in rows
        if isinstance(r.get("profile"), str) and pkg.canonical(r["profile"]) is not None
    }
    counts: Counter[str] = Counter({"Bundle": 1})
    for i, resource in enumerate(resources):
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue
        rtype = resource["resourceType"]
        wanted = ours.get(rtype)
        claims = _our_claims(resource, pkg)
        if wanted is not None and claims and wanted not in claims:
            continue  # claims another of our profiles (an onward referral is not a referral)
        counts[rtype] += 1
        if wanted is not None and not claims:
            out.implied[i] = [wanted]
    for row in rows:
        code, low, high = str(row.get("code")), int(row.get("min", 0)), str(row.get("max", "*"))
        what = f"{code} ({row['profile'].rsplit('/', 1)[-1]})" if code in ours else code
        found = f"; found {counts[code]}"
        if counts[code] < low:
            why = f"{name} needs at least {low} {what} entr{'y' if low == 1 else 'ies'}{found}"
            out.issues.append(issue("LD-MSG-COUNT-MIN", f"{path}.entry", why))
        if high != "*" and counts[code] > int(high):
            why = f"{name} allows at most {high} {what} entr{'y' if high == '1' else 'ies'}{found}"
            out.issues.append(issue("LD-MSG-COUNT-MAX", f"{path}.entry", why))
    return out


def _our_claims(resource: dict, pkg: Package) -> set[str]:
    """The profiles of ours a resource claims in meta.profile."""
    meta = resource.get("meta")
    claimed = meta.get("profile") if isinstance(meta, dict) else None
    if not isinstance(claimed, list):
        return set()
    return {p for p in claimed if isinstance(p, str) and pkg.canonical(p) is not None}


def _focus(header: dict, at: str, index: BundleIndex, out: MessageResult) -> list[tuple[int, str]]:
    """Each focus must resolve to an entry; returns (position, resource type) of those that do."""
    focus = header.get("focus")
    if not isinstance(focus, list) or not focus:
        why = "MessageHeader.focus must point at the message's main resource in this bundle"
        out.issues.append(issue("LD-MSG-FOCUS-MISSING", f"{at}.focus", why))
        return []
    found = []
    for i, ref in enumerate(focus):
        target = ref.get("reference") if isinstance(ref, dict) else None
        rtype = index.resolve(target, None) if isinstance(target, str) else None
        if rtype is None:
            why = "MessageHeader.focus must reference an entry of this bundle (by its fullUrl)"
            out.issues.append(issue("LD-MSG-FOCUS-UNRESOLVED", f"{at}.focus[{i}]", why))
        else:
            found.append((i, rtype))
    return found


def _definition(header: dict, at: str, pkg: Package, out: MessageResult) -> dict | None:
    """Our MessageDefinition for this header, or None (with the issue saying why)."""
    event = header.get("eventCoding")
    event = event if isinstance(event, dict) else {}
    system, code = event.get("system"), event.get("code")
    if system in OLD_EVENT_SYSTEMS:
        why = f"eventCoding uses a retired NHS code system; use {BARS_EVENTS}"
        out.issues.append(issue("LD-MSG-EVENT-SYSTEM-OLD", f"{at}.eventCoding.system", why))
    canonical = header.get("definition")
    if isinstance(canonical, str):
        definition = pkg.canonical(canonical)
        if definition is None or definition.get("resourceType") != "MessageDefinition":
            why = "definition is not a MessageDefinition of this adapter: base spec checks only"
            out.issues.append(issue("LD-MSG-DEFINITION-NOT-OURS", f"{at}.definition", why))
            return None
        expected = definition.get("eventCoding", {})
        if (system, code) != (expected.get("system"), expected.get("code")):
            event_name = f"{expected.get('system')}#{expected.get('code')}"
            why = f"eventCoding must be {event_name} for {definition.get('name')}"
            out.issues.append(issue("LD-MSG-EVENT-MISMATCH", f"{at}.eventCoding", why))
        return definition
    if system in OLD_EVENT_SYSTEMS:
        return None
    candidates = [
        md
        for md in pkg.by_type.get("MessageDefinition", [])
        if (md.get("eventCoding", {}).get("system"), md.get("eventCoding", {}).get("code"))
        == (system, code)
    ]
    if not candidates:
        why = "eventCoding names an event this adapter neither sends nor accepts"
        out.issues.append(issue("LD-MSG-UNKNOWN-EVENT", f"{at}.eventCoding", why))
        return None
    return candidates[0]
