"""Before anything is queued: does the person's consent, or a recorded lawful basis, allow this?

The answer is the consent relied on and what it lets the partner see, or an Unprocessable (422)
naming the consent that is missing or declined. Diagnostics name scopes and codes, never the person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from adapter.domain import ConsentDecision
from adapter.errors import InvalidInput, Issue, Unprocessable
from adapter.exchange.disclosure import Disclosure, DisclosureRule
from adapter.mapping import codes
from adapter.mapping.consent import decision_from_consent
from adapter.mapping.onward_referral import LAWFUL_BASIS_DECISION

NOT_ASSESSED = "not-assessed"
LACKS_CAPACITY = "lacks-capacity"


@dataclass(frozen=True)
class ConsentBasis:
    """Why the partner may be told, and what."""

    disclosure: Disclosure
    consent_ids: tuple[str, ...]  # the stored Consents relied on; () when on a lawful basis
    lawful_basis: str | None = None  # set: record it with lawful_basis_consent() and rely on that
    capacity: str = NOT_ASSESSED  # the person's capacity as last recorded (for that Consent)


def check_consent(
    rule: DisclosureRule, consents: Sequence[dict], lawful_basis: str | None = None
) -> ConsentBasis:
    """The consent (or lawful basis) that permits sharing under `rule`, or Unprocessable."""
    decisions = _decisions(consents)
    capacity = _capacity(decisions, rule.consent_scope)
    if lawful_basis is not None:
        return _on_lawful_basis(rule, lawful_basis, capacity)
    current = _current(decisions, rule.consent_scope)
    scope = rule.consent_scope
    if current is None:
        _refuse(f"{scope} consent is missing", rule)
    consent_id, decision = current
    if decision.capacity == LACKS_CAPACITY:
        # Agreement given without capacity is not consent (Mental Capacity Act 2005).
        _refuse(f"{scope} consent was recorded when the person lacked capacity to decide", rule)
    disclosure = rule.for_decision(decision.decision)
    if disclosure is None:
        _refuse(f"{scope} consent is {decision.decision}", rule)
    return ConsentBasis(disclosure, (consent_id,), capacity=decision.capacity)


def _on_lawful_basis(rule: DisclosureRule, lawful_basis: str, capacity: str) -> ConsentBasis:
    if not codes.has("ld-lawful-basis", lawful_basis):
        known = ", ".join(codes.codes("ld-lawful-basis"))
        why = f"Expected a code from {codes.system('ld-lawful-basis')}: {known}."
        raise InvalidInput(Issue(why, expression=("lawful_basis",)))
    disclosure = rule.on_lawful_basis()
    if disclosure is None or lawful_basis not in rule.lawful_bases:
        why = f"A {rule.recipient_type} partner cannot be told without the person's consent"
        if rule.lawful_bases:
            why += f" on this lawful basis; allowed: {', '.join(sorted(rule.lawful_bases))}"
        raise Unprocessable(Issue(f"{why}.", code="business-rule", expression=("lawful_basis",)))
    return ConsentBasis(disclosure, (), lawful_basis=lawful_basis, capacity=capacity)


def _refuse(what: str, rule: DisclosureRule) -> NoReturn:
    why = f"{what}: a {rule.recipient_type} partner needs it agreed"
    if rule.lawful_bases:
        why += "; to share without consent, give a lawful_basis"
    raise Unprocessable(Issue(f"{why}.", code="business-rule", expression=("to",)))


def _decisions(consents: Sequence[dict]) -> list[tuple[str, ConsentDecision]]:
    """Each active stored Consent as (id, decision); lawful-basis records are not the person's."""
    found = []
    for index, consent in enumerate(consents):
        if consent.get("status") != "active":
            continue
        decision = decision_from_consent(consent, index)
        if decision.decision != LAWFUL_BASIS_DECISION:
            found.append((str(consent.get("id")), decision))
    return found


def _current(
    decisions: list[tuple[str, ConsentDecision]], scope: str
) -> tuple[str, ConsentDecision] | None:
    """The latest decision of one scope: a person may change their mind."""
    of_scope = [d for d in decisions if d[1].scope == scope]
    return max(of_scope, key=lambda d: d[1].recorded_at, default=None)


def _capacity(decisions: list[tuple[str, ConsentDecision]], scope: str) -> str:
    """Capacity for this scope's decision, else the latest recorded for any, else not assessed."""
    current = _current(decisions, scope)
    if current is not None:
        return current[1].capacity
    latest = max(decisions, key=lambda d: d[1].recorded_at, default=None)
    return latest[1].capacity if latest else NOT_ASSESSED
