"""The message tier: a message Bundle against our MessageDefinitions (header, focus, counts)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from adapter.conformance.bundle import BundleIndex
from adapter.conformance.messages import issue
from adapter.conformance.national import national_package
from adapter.conformance.package import Package, partner_message_definitions
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
    """Header, focus, definition and entry counts of a message Bundle; linear in its size."""
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
    definition, ours = _definition(header, at, pkg, out)
    if definition is None:
        return out
    rows = [r for r in definition.get("focus", []) if isinstance(r, dict)]
    name = str(definition.get("name") or definition.get("id"))
    if not ours:  # a partner's focus rows list contents; which one is the focus is not said
        _partner_counts(rows, resources, name, path, out)
        _partner_implied(rows, resources, out)
        return out
    primary = next(
        (r.get("code") for r in rows if r.get("code") not in ("Bundle", "MessageHeader")), None
    )
    for i, ftype in focus_types:
        if primary is not None and ftype != primary:
            why = f"focus must point at the {primary} of {name}, not a {ftype}"
            out.issues.append(issue("LD-MSG-FOCUS-TYPE", f"{at}.focus[{i}]", why))
    _our_counts(rows, resources, name, path, pkg, out)
    return out


def _our_counts(
    rows: list[dict], resources: list, name: str, path: str, pkg: Package, out: MessageResult
) -> None:
    """Entries counted per our profile; entries claiming none of ours get the implied one."""
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
        code = str(row.get("code"))
        what = f"{code} ({row['profile'].rsplit('/', 1)[-1]})" if code in ours else code
        low, high = _bound(row.get("min")), str(row.get("max", "*"))
        out.issues.extend(_count_issues(what, low, high, counts[code], name, path))


def _partner_counts(
    rows: list[dict], resources: list, name: str, path: str, out: MessageResult
) -> None:
    """A partner definition's rows summed per resource type (its profiles are not ours to check)."""
    counts: Counter[str] = Counter({"Bundle": 1})
    for resource in resources:
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            counts[resource["resourceType"]] += 1
    low: Counter[str] = Counter()
    high: dict[str, int | None] = {}
    for row in rows:
        code = str(row.get("code"))
        low[code] += _bound(row.get("min"))
        before, top = high.get(code, 0), str(row.get("max", "*"))
        high[code] = None if top == "*" or before is None else before + _bound(top)
    for code, most in high.items():
        limit = "*" if most is None else str(most)
        out.issues.extend(_count_issues(code, low[code], limit, counts[code], name, path))
    _claimed_row_maxima(rows, resources, name, path, out)


def _partner_implied(rows: list[dict], resources: list, out: MessageResult) -> None:
    """Entries claiming no profile get the one their type's only row names, if it is held."""
    per_type = Counter(str(row.get("code")) for row in rows)
    wanted = {
        str(row.get("code")): row["profile"]
        for row in rows
        if per_type[str(row.get("code"))] == 1 and isinstance(row.get("profile"), str)
    }
    for i, resource in enumerate(resources):
        profile = wanted.get(str(_type_of(resource)))
        if profile is None or not isinstance(resource, dict) or _claims(resource):
            continue
        held = national_package().canonical(profile)
        if held is not None and held.get("resourceType") == "StructureDefinition":
            out.implied[i] = [profile]


def _claimed_row_maxima(
    rows: list[dict], resources: list, name: str, path: str, out: MessageResult
) -> None:
    """Where a type has several rows, each row's max over the entries claiming its profile.

    Only the max: an entry that claims no profile may be any row's, so a row's min is not known.
    """
    per_type = Counter(str(row.get("code")) for row in rows)
    for row in rows:
        code, wanted = str(row.get("code")), row.get("profile")
        if per_type[code] < 2 or not isinstance(wanted, str) or row.get("max", "*") == "*":
            continue
        count = sum(1 for r in resources if _type_of(r) == code and wanted in _claims(r))
        what = f"{code} ({wanted.rsplit('/', 1)[-1]})"
        out.issues.extend(_count_issues(what, 0, str(row["max"]), count, name, path))


def _type_of(resource: object) -> str | None:
    return resource.get("resourceType") if isinstance(resource, dict) else None


def claimed_profiles(resource: dict) -> list[str]:
    """The canonicals a resource claims in meta.profile, in order (anything else left out)."""
    meta = resource.get("meta")
    claimed = meta.get("profile") if isinstance(meta, dict) else None
    return [p for p in claimed if isinstance(p, str)] if isinstance(claimed, list) else []


def _claims(resource: dict) -> set[str]:
    """The profiles a resource claims in meta.profile, without their versions."""
    return {p.partition("|")[0] for p in claimed_profiles(resource)}


def _bound(value: object) -> int:
    """A focus min or max as a number; anything malformed counts as 0."""
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def _count_issues(what: str, low: int, high: str, count: int, name: str, path: str) -> list[Issue]:
    """Too few or too many entries of one kind for the message's definition."""
    found = []
    if count < low:
        why = f"{name} needs at least {low} {what} entr{'y' if low == 1 else 'ies'}; found {count}"
        found.append(issue("LD-MSG-COUNT-MIN", f"{path}.entry", why))
    if high != "*" and count > _bound(high):
        why = f"{name} allows at most {high} {what} entr{'y' if high == '1' else 'ies'}"
        found.append(issue("LD-MSG-COUNT-MAX", f"{path}.entry", f"{why}; found {count}"))
    return found


def _our_claims(resource: dict, pkg: Package) -> set[str]:
    """The profiles of ours a resource claims in meta.profile."""
    return {p for p in claimed_profiles(resource) if pkg.canonical(p) is not None}


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


def _definition(
    header: dict, at: str, pkg: Package, out: MessageResult
) -> tuple[dict | None, bool]:
    """The MessageDefinition named by MessageHeader.definition (never guessed from the event).

    Returns the definition and whether it is ours; None (with information saying why) when the
    header names none or one we do not have.
    """
    event = header.get("eventCoding")
    event = event if isinstance(event, dict) else {}
    if isinstance(event.get("system"), str) and event["system"] in OLD_EVENT_SYSTEMS:
        why = f"eventCoding uses a retired NHS code system; use {BARS_EVENTS}"
        out.issues.append(issue("LD-MSG-EVENT-SYSTEM-OLD", f"{at}.eventCoding.system", why))
    canonical = header.get("definition")
    if not isinstance(canonical, str):
        why = "MessageHeader.definition is absent: the message is checked against the FHIR R4 "
        why += "base spec only, not against a MessageDefinition"
        out.issues.append(issue("LD-MSG-NO-DEFINITION", at, why))
        return None, False
    definition = pkg.canonical(canonical)
    ours = definition is not None and definition.get("resourceType") == "MessageDefinition"
    if not ours:
        definition = partner_message_definitions().get(canonical.partition("|")[0])
    if definition is None:
        why = "definition is not a MessageDefinition this adapter has: base spec checks only"
        out.issues.append(issue("LD-MSG-DEFINITION-NOT-OURS", f"{at}.definition", why))
        return None, False
    if not ours:
        why = f"definition is {definition['name']}: entry counts checked against its focus list; "
        why += "an entry claiming no profile is checked against the one its type's row names"
        out.issues.append(issue("LD-MSG-DEFINITION-PARTNER", f"{at}.definition", why))
    expected = definition.get("eventCoding", {})
    if (event.get("system"), event.get("code")) != (expected.get("system"), expected.get("code")):
        event_name = f"{expected.get('system')}#{expected.get('code')}"
        why = f"eventCoding must be {event_name} for {definition.get('name')}"
        out.issues.append(issue("LD-MSG-EVENT-MISMATCH", f"{at}.eventCoding", why))
    return definition, ours
