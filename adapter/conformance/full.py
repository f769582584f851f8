"""The full check: base spec, then our profiles, messages and questionnaires."""

from __future__ import annotations

import functools

from adapter.conformance.message import claimed_profiles, message_issues
from adapter.conformance.messages import issue
from adapter.conformance.package import package
from adapter.conformance.profile_check import ProfileCheck, extension_issues, nhs_number_issues
from adapter.conformance.profiles import Profile, profiles
from adapter.conformance.questionnaire_response import (
    QuestionnaireIndex,
    load_questionnaire_index,
    validate_questionnaire_response,
)
from adapter.conformance.validate import parse_json, validate_parsed
from adapter.errors import Issue


@functools.cache
def questionnaires() -> QuestionnaireIndex:
    """Our Questionnaires, indexed on first use."""
    return load_questionnaire_index()


def validate(payload: object, profile: str | None = None) -> list[Issue]:
    """Every problem in a resource or Bundle (JSON text or parsed): base, profiles, messages."""
    if isinstance(payload, bytes | bytearray | memoryview | str):
        parsed, problem = parse_json(payload)
        if problem is not None:
            return [problem]
    else:
        parsed = payload
    issues = validate_parsed(parsed)
    if not isinstance(parsed, dict) or any(i.message_id == "LD-JSON-TOO-DEEP" for i in issues):
        return issues
    rtype = parsed.get("resourceType")
    if not isinstance(rtype, str):
        return issues
    try:
        issues.extend(_resource(parsed, rtype, [profile] if profile else []))
    except RecursionError:
        issues.append(issue("LD-JSON-TOO-DEEP", "", "the payload is nested too deeply to validate"))
    return issues


def _resource(resource: dict, path: str, extra: list[str]) -> list[Issue]:
    """Profile, questionnaire and (for Bundles) entry and message checks of one resource."""
    rtype = resource.get("resourceType")
    found: list[Issue] = []
    claimed = claimed_profiles(resource)
    checked: list[Profile] = []
    compiled = profiles()
    for position, url in [*enumerate(claimed), *((None, u) for u in extra)]:
        at = f"{path}.meta.profile[{position}]" if position is not None else path
        prof = compiled.get(url)
        if prof is None or prof.is_extension:
            why = "profile is not one this adapter holds (its own, UK Core or BaRS)"
            found.append(issue("LD-PROFILE-NOT-OURS", at, f"{why}: checked against R4 only"))
        elif prof.type != rtype:
            why = f"profile {prof.name} constrains {prof.type}, not {rtype}"
            found.append(issue("LD-PROFILE-WRONG-TYPE", at, why))
        else:
            found.extend(_version_not_held(url, prof, at))
            urls = {p.url for p in checked}
            checked.extend(p for p in compiled.chain(prof) if p.url not in urls)
    found.extend(_profile_issues(resource, path, checked))
    if not checked:
        # As the HL7 validator does: an extension held here is checked whatever is claimed.
        found.extend(extension_issues(compiled, resource, path, warn_unknown=False))
    reported = {i.expression for i in found if i.message_id == "LD-PROFILE-NHS-NUMBER"}
    found.extend(i for i in nhs_number_issues(resource, path) if i.expression not in reported)
    if rtype == "QuestionnaireResponse":
        ours = any(not p.national for p in checked)
        found.extend(_questionnaire_response(resource, path, ours))
    elif rtype == "Bundle":
        found.extend(_bundle(resource, path))
    return found


def _version_not_held(canonical: str, prof: Profile, at: str) -> list[Issue]:
    """A warning when `url|version` asks for a version other than the one held (checked anyway)."""
    wanted = canonical.partition("|")[2]
    held = prof.version or ""
    if not wanted or wanted == held or held.startswith(wanted + "."):
        return []  # no version asked for, or the one held (2.3 is met by 2.3.0)
    why = (
        f"version {wanted} of {prof.name} is not held here: "
        f"checked against version {held or '(unversioned)'} instead"
    )
    return [issue("LD-PROFILE-VERSION-NOT-HELD", at, why)]


def _profile_issues(resource: dict, path: str, checked: list[Profile]) -> list[Issue]:
    """Each profile claimed or implied and each it derives from; every broken rule once."""
    found: list[Issue] = []
    seen: set[tuple[str | None, tuple[str, ...]]] = set()
    for position, step in enumerate(checked):
        # Extensions are checked against their own definitions once, whichever profile is first.
        check = ProfileCheck(profiles(), step, resource)
        for one in check.run(resource, path, extensions=not position):
            if (one.message_id, one.expression) not in seen:
                seen.add((one.message_id, one.expression))
                found.append(one)
    # A code our profile requires from its ValueSet needs no second, weaker word from UK Core's.
    required = {i.expression for i in found if i.message_id == "LD-PROFILE-BINDING-REQUIRED"}
    return [
        i
        for i in found
        if i.message_id != "LD-PROFILE-BINDING-EXTENSIBLE" or i.expression not in required
    ]


def _questionnaire_response(response: dict, path: str, ours: bool) -> list[Issue]:
    """Answers checked against our Questionnaire; otherwise say they were not checked."""
    canonical = response.get("questionnaire")
    at = f"{path}.questionnaire"
    if not isinstance(canonical, str) or not canonical:
        if ours:
            return []  # our profile reports the missing questionnaire (min 1)
        why = "questionnaire is absent: the answers were not checked against any Questionnaire"
        return [issue("LD-QR-QUESTIONNAIRE-MISSING", at, why)]
    if ours or questionnaires().knows_url(canonical.partition("|")[0]):
        return validate_questionnaire_response(response, questionnaires(), path)
    why = "questionnaire is not one of this adapter's: the answers were not checked against it"
    return [issue("LD-QR-QUESTIONNAIRE-NOT-OURS", at, why)]


def _bundle(bundle: dict, path: str) -> list[Issue]:
    found: list[Issue] = []
    implied: dict[int, list[str]] = {}
    if bundle.get("type") == "message":
        result = message_issues(bundle, path, package())
        found.extend(result.issues)
        implied = result.implied
    entries = bundle.get("entry")
    for i, entry in enumerate(entries if isinstance(entries, list) else ()):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            found.extend(_resource(resource, f"{path}.entry[{i}].resource", implied.get(i, [])))
    return found
