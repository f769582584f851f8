"""Who may be told what: the disclosure rule per recipient type, and cutting resources down to it.

The rules are data (`mappings/disclosure-rules.json`); this module reads them and applies them
element by element. Nothing outside a rule reaches a partner: a resource type the rule does not name
is left out, and so is every element, extension and identifier it does not list.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from adapter.errors import Issue, Unprocessable
from adapter.mapping import codes

VULNERABILITY = "ld-vulnerability"
ALWAYS = frozenset({"resourceType", "id"})


@dataclass(frozen=True)
class ResourceRule:
    """What of one resource type a partner receives."""

    elements: frozenset[str]
    extensions: frozenset[str] = frozenset()
    identifier_systems: frozenset[str] | None = None  # None: identifiers are not filtered


@dataclass(frozen=True)
class ReportRule:
    """What a written report under a disclosure adds: which support arranged, and its outcomes."""

    summary: str  # the scope, in words, printed on the report
    support_pathways: frozenset[str]  # ld-onward-referral pathways listed as support arranged
    outcomes: bool  # whether the partners' answers (booked, seen, ...) are shown


@dataclass(frozen=True)
class Disclosure:
    """One level of disclosure: the findings and the resources, element by element."""

    name: str
    findings: frozenset[str]
    resources: Mapping[str, ResourceRule]
    report: ReportRule | None = None  # set where a report may be written under this disclosure

    def allowed_findings(self, concerns: Iterable[str]) -> tuple[str, ...]:
        """The referral's concerns this partner may be told of, in their order."""
        return tuple(c for c in dict.fromkeys(concerns) if c in self.findings)


@dataclass(frozen=True)
class DisclosureRule:
    """The consent one kind of partner needs and what it is then told."""

    recipient_type: str
    consent_scope: str
    permits: Mapping[str, str]  # consent decision -> disclosure name
    lawful_bases: frozenset[str]
    lawful_basis_disclosure: str | None
    disclosures: Mapping[str, Disclosure]

    def for_decision(self, decision: str) -> Disclosure | None:
        """The disclosure a consent decision permits, or None when it permits none."""
        name = self.permits.get(decision)
        return self.disclosures[name] if name else None

    def on_lawful_basis(self) -> Disclosure | None:
        """The disclosure that applies when sharing without consent, if this type allows it."""
        name = self.lawful_basis_disclosure
        return self.disclosures[name] if name else None


def _resource_rule(data: dict) -> ResourceRule:
    systems = data.get("identifier_systems")
    return ResourceRule(
        elements=frozenset(data["elements"]),
        extensions=frozenset(data.get("extensions", ())),
        identifier_systems=None if systems is None else frozenset(systems),
    )


def _disclosure(name: str, data: dict, directory: dict[str, ResourceRule]) -> Disclosure:
    resources = {rtype: _resource_rule(rule) for rtype, rule in data["resources"].items()}
    report = data.get("report")
    report_rule = (
        ReportRule(report["summary"], frozenset(report["support_pathways"]), report["outcomes"])
        if report
        else None
    )
    return Disclosure(name, frozenset(data["findings"]), {**directory, **resources}, report_rule)


@functools.cache
def disclosure_rules() -> Mapping[str, DisclosureRule]:
    """Every recipient type's rule, read once from mappings/disclosure-rules.json."""
    path = codes.mappings_dir() / "disclosure-rules.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    directory = {rtype: _resource_rule(rule) for rtype, rule in document["directory"].items()}
    rules = {}
    for recipient_type, data in document["recipient_types"].items():
        lawful = data["lawful_bases"]
        rules[recipient_type] = DisclosureRule(
            recipient_type=recipient_type,
            consent_scope=data["consent"]["scope"],
            permits=dict(data["consent"]["permits"]),
            lawful_bases=frozenset(lawful["codes"]),
            lawful_basis_disclosure=lawful["disclosure"],
            disclosures={
                name: _disclosure(name, disclosure, directory)
                for name, disclosure in data["disclosures"].items()
            },
        )
    return rules


@functools.cache
def cancellation_disclosure() -> Disclosure:
    """What a cancellation may repeat: the directory, and the person only as far as identified."""
    path = codes.mappings_dir() / "disclosure-rules.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    rules = {**document["directory"], **document["cancellation"]}
    resources = {t: _resource_rule(r) for t, r in rules.items() if not t.startswith("_")}
    return Disclosure("cancellation", frozenset(), resources)


def rule_for(recipient_type: str | None) -> DisclosureRule:
    """The rule for a partner's recipient type; Unprocessable when it has none."""
    rule = disclosure_rules().get(recipient_type or "")
    if rule is None:
        why = "The partner service has no recipient type with a disclosure rule: nothing is sent."
        raise Unprocessable(Issue(why, code="business-rule", expression=("to",)))
    return rule


def minimise(resource: dict, disclosure: Disclosure) -> dict | None:
    """The resource cut to what the disclosure allows; None when its type is not disclosed."""
    rule = disclosure.resources.get(resource.get("resourceType", ""))
    if rule is None:
        return None
    kept = {k: v for k, v in resource.items() if k in ALWAYS or k in rule.elements}
    if "meta" in kept:
        # Our store's version and timestamps are not the partner's business; profiles are.
        profiles = list(kept["meta"].get("profile", ()))
        kept["meta"] = {"profile": profiles} if profiles else {}  # {} is dropped below
    if "extension" in kept:
        kept["extension"] = [e for e in kept["extension"] if e.get("url") in rule.extensions]
    if "identifier" in kept and rule.identifier_systems is not None:
        systems = rule.identifier_systems
        kept["identifier"] = [i for i in kept["identifier"] if i.get("system") in systems]
    if "reasonCode" in kept:
        kept["reasonCode"] = [c for c in kept["reasonCode"] if _reason_allowed(c, disclosure)]
    return {k: v for k, v in kept.items() if v not in ([], {}, None)}


def _reason_allowed(concept: dict, disclosure: Disclosure) -> bool:
    """A finding the partner may be told, or the practitioner's own words (text only)."""
    if "coding" not in concept:
        return True
    return codes.code_from(VULNERABILITY, concept["coding"]) in disclosure.findings
