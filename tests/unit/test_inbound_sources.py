"""A native check's refusal of a received referral names the sender's element, not ours."""

from __future__ import annotations

from adapter.errors import Issue
from adapter.mapping.inbound_referral import rules
from adapter.mapping.inbound_sources import Sources, fhir_issue
from adapter.mapping.message_bundle import MessageBundle

BUNDLE = {
    "resourceType": "Bundle",
    "entry": [
        {"resource": {"resourceType": "MessageHeader"}},
        {"resource": {"resourceType": "ServiceRequest"}},
        {"fullUrl": "urn:uuid:no-resource"},
        {"resource": {"resourceType": "Patient"}},
        {"resource": {"resourceType": "Consent", "id": "a"}},
        {"resource": {"resourceType": "Consent", "id": "b"}},
    ],
}


def _sources() -> Sources:
    message = MessageBundle(BUNDLE)
    request, patient, first, second = (e[1] for e in message.entries[1:])
    # The native consents are those kept, in their own order: the second Consent is first.
    return Sources(message, request, patient, (second, first))


def _refused(*expression: str, diagnostics: str = "Expected more.") -> Issue:
    return fhir_issue(Issue(diagnostics, expression=expression), _sources(), rules())


def test_a_native_field_is_named_by_the_element_and_the_entry_it_came_from() -> None:
    # Positions count every entry, the one without a resource too.
    assert _refused("person.birth_date").expression == ("Bundle.entry[3].resource.birthDate",)
    assert _refused("person.given_names[1]").expression == ("Bundle.entry[3].resource.name.given",)
    assert _refused("urgency").expression == ("Bundle.entry[1].resource.priority",)


def test_a_consent_is_named_by_the_consent_it_came_from() -> None:
    assert _refused("consents[0].recorded_at").expression == ("Bundle.entry[5].resource.dateTime",)
    assert _refused("consents[1]").expression == ("Bundle.entry[4].resource",)


def test_a_field_with_no_single_source_is_named_by_its_resource() -> None:
    assert _refused("person").expression == ("Bundle.entry[3].resource",)
    assert _refused("site").expression == ("Bundle.entry[1].resource",)
    assert _refused().expression == ("Bundle.entry[1].resource",)


def test_the_reason_is_given_in_the_senders_terms() -> None:
    issue = _refused(
        "person.birth_date", diagnostics="Expected a birth date on or before received_at."
    )
    assert issue.diagnostics == (
        "The referral cannot be stored here: Expected a birth date on or before "
        "the time the message was received."
    )
    assert issue.code == "business-rule"
