"""The consent check before an onward referral is queued: which consent permits it, or a 422."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapter.conformance import has_errors, validate
from adapter.domain import ConsentDecision
from adapter.errors import InvalidInput, Unprocessable
from adapter.exchange.consent_check import check_consent
from adapter.exchange.disclosure import rule_for
from adapter.mapping.consent import consent_from_decision
from adapter.mapping.onward_referral import lawful_basis_consent

AT = datetime(2025, 3, 14, 10, 5, tzinfo=UTC)


def _consent(scope: str, decision: str, cid: str = "", later: int = 0, **kw: str) -> dict:
    made = ConsentDecision(
        scope=scope,
        decision=decision,
        capacity=kw.get("capacity", "has-capacity"),
        recorded_by="Alex Morgan",
        recorded_at=AT + timedelta(minutes=later),
    )
    return consent_from_decision(made, cid or f"{scope}-{decision}", "patient-1")


def _refusal(exc: pytest.ExceptionInfo) -> tuple[str, tuple[str, ...]]:
    (issue,) = exc.value.issues
    return issue.diagnostics, issue.expression


def test_health_relies_on_the_agreed_share_health_consent() -> None:
    consents = [_consent("screening", "agreed"), _consent("share-health", "agreed", "c-2")]
    basis = check_consent(rule_for("health"), consents)
    assert basis.consent_ids == ("c-2",)
    assert basis.disclosure.name == "standard" and basis.lawful_basis is None


def test_missing_consent_is_a_422_naming_it() -> None:
    with pytest.raises(Unprocessable) as caught:
        check_consent(rule_for("health"), [_consent("screening", "agreed")])
    why, where = _refusal(caught)
    assert why.startswith("share-health consent is missing") and where == ("to",)


def test_declined_consent_is_a_422_naming_it() -> None:
    with pytest.raises(Unprocessable) as caught:
        check_consent(rule_for("home-area-ld"), [_consent("out-of-area-referral", "declined")])
    why, where = _refusal(caught)
    assert why.startswith("out-of-area-referral consent is declined") and where == ("to",)
    assert "lawful_basis" not in why  # home-area L&D can never be told without consent


def test_declined_consent_for_safeguarding_says_a_lawful_basis_may_be_given() -> None:
    with pytest.raises(Unprocessable) as caught:
        check_consent(rule_for("safeguarding"), [_consent("share-health", "declined")])
    assert "give a lawful_basis" in _refusal(caught)[0]


def test_the_latest_decision_of_a_scope_counts() -> None:
    changed_mind = [
        _consent("share-health", "agreed", "first"),
        _consent("share-health", "declined", "second", later=30),
    ]
    with pytest.raises(Unprocessable):
        check_consent(rule_for("health"), changed_mind)
    agreed_later = [changed_mind[1], _consent("share-health", "agreed", "third", later=60)]
    assert check_consent(rule_for("health"), agreed_later).consent_ids == ("third",)


def test_an_inactive_consent_is_not_relied_on() -> None:
    withdrawn = {**_consent("share-health", "agreed"), "status": "inactive"}
    with pytest.raises(Unprocessable):
        check_consent(rule_for("health"), [withdrawn])


@pytest.mark.parametrize(
    ("decision", "disclosure"), [("agreed", "standard"), ("limited", "limited")]
)
def test_criminal_justice_gets_the_scope_the_person_agreed_to(
    decision: str, disclosure: str
) -> None:
    consent = _consent("share-criminal-justice", decision)
    assert check_consent(rule_for("criminal-justice"), [consent]).disclosure.name == disclosure


def test_limited_consent_to_criminal_justice_does_not_reach_health() -> None:
    # A limited criminal-justice agreement says nothing about health: health still needs its own.
    with pytest.raises(Unprocessable):
        check_consent(rule_for("health"), [_consent("share-criminal-justice", "limited")])


def test_safeguarding_may_go_without_consent_on_an_allowed_lawful_basis() -> None:
    declined = _consent("share-health", "declined", capacity="lacks-capacity")
    basis = check_consent(rule_for("safeguarding"), [declined], "safeguarding-adult")
    assert basis.lawful_basis == "safeguarding-adult" and basis.consent_ids == ()
    assert basis.capacity == "lacks-capacity"  # carried onto the lawful-basis Consent
    assert basis.disclosure.name == "standard"


def test_capacity_is_not_assessed_when_no_consent_was_ever_recorded() -> None:
    basis = check_consent(rule_for("safeguarding"), [], "vital-interests")
    assert basis.capacity == "not-assessed"


@pytest.mark.parametrize("recipient_type", ["health", "home-area-ld", "community-support"])
def test_a_lawful_basis_is_refused_where_the_rule_allows_none(recipient_type: str) -> None:
    with pytest.raises(Unprocessable) as caught:
        check_consent(rule_for(recipient_type), [], "safeguarding-adult")
    assert _refusal(caught)[1] == ("lawful_basis",)


def test_a_lawful_basis_safeguarding_does_not_list_is_refused() -> None:
    with pytest.raises(Unprocessable) as caught:
        check_consent(rule_for("safeguarding"), [], "court-order")
    why, where = _refusal(caught)
    assert where == ("lawful_basis",) and "safeguarding-adult" in why


def test_an_unknown_lawful_basis_is_a_400() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_consent(rule_for("safeguarding"), [], "because")
    assert caught.value.issues[0].expression == ("lawful_basis",)


def test_a_recipient_type_without_a_rule_is_a_422() -> None:
    with pytest.raises(Unprocessable) as caught:
        rule_for("bakery")
    assert _refusal(caught)[1] == ("to",)


def test_a_lawful_basis_consent_is_valid_and_is_not_the_persons_own_decision() -> None:
    consent = lawful_basis_consent(
        "c-lb",
        "patient-1",
        scope="share-health",
        lawful_basis="safeguarding-child",
        capacity="not-assessed",
        recorded_by="Alex Morgan",
        recorded_by_role="L&D practitioner",
        at=AT,
    )
    assert not has_errors(validate(consent))
    assert consent["provision"]["type"] == "permit"
    assert consent["policyRule"]["coding"][0]["code"] == "safeguarding-child"
    # Recorded once, it is not taken later for the person's consent to share with health.
    with pytest.raises(Unprocessable) as caught:
        check_consent(rule_for("health"), [consent])
    assert _refusal(caught)[0].startswith("share-health consent is missing")
