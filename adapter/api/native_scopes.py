"""The SMART scopes each native API operation needs: the FHIR types it writes or shows.

The native API follows the FHIR rules: a record that shows a person's details needs Patient read,
and a write needs the scope of every FHIR resource it creates or versions (see the services).
"""

from __future__ import annotations

from adapter.auth import require_scopes

# What a referral record shows: the ServiceRequest and everything it was made with.
_REFERRAL_SHOWS = ("ServiceRequest", "Patient", "Encounter", "Consent", "Organization")
# What an assessment record shows: the answers, the contact and the risks found.
_ASSESSMENT_SHOWS = ("QuestionnaireResponse", "Encounter", "Flag")
# What an onward referral record shows: the request, its Task, the person and the consents.
_ONWARD_SHOWS = ("ServiceRequest", "Task", "Patient", "Consent")


def _each(types: tuple[str, ...], interactions: str) -> tuple[tuple[str, str], ...]:
    return tuple((t, i) for t in types for i in interactions)


_ANSWER_WRITES = (
    *_each(("Bundle", "Task"), "c"),
    *_each(("ServiceRequest", "Encounter"), "u"),
    *_each(("Patient", "Consent"), "cu"),
    ("Organization", "c"),
)


NATIVE_SCOPES: dict[str, tuple[tuple[str, str], ...]] = {
    # A known person's Patient gets a new version (new identifiers), so Patient needs u too.
    "create_referral": (
        *_each(("ServiceRequest", "Patient", "Encounter", "Consent", "Organization"), "c"),
        ("Patient", "u"),
    ),
    "read_referral": _each(_REFERRAL_SHOWS, "r"),
    "list_referrals": (("ServiceRequest", "s"), *_each(_REFERRAL_SHOWS, "r")),
    "update_referral": (
        *_each(("ServiceRequest", "Encounter"), "u"),
        *_each(("Patient", "Consent"), "cu"),
        ("Organization", "c"),
    ),
    # Recording an assessment moves the referral on: its ServiceRequest, Encounter and Consents.
    "create_assessment": (
        *_each(("QuestionnaireResponse", "Encounter", "Flag"), "c"),
        *_each(("ServiceRequest", "Encounter", "Consent"), "u"),
        ("Consent", "c"),
    ),
    "list_assessments": (("QuestionnaireResponse", "s"), *_each(_ASSESSMENT_SHOWS, "r")),
    "read_assessment": _each(_ASSESSMENT_SHOWS, "r"),
    "amend_assessment": (
        *_each(("QuestionnaireResponse", "Encounter", "ServiceRequest", "Consent"), "u"),
        *_each(("Flag", "Consent"), "cu"),
    ),
    "assessment_history": _each(_ASSESSMENT_SHOWS, "r"),
    # Outbound messages are FHIR message Bundles; their bodies need more (adapter.api.messages).
    "list_messages": (("Bundle", "r"), ("Bundle", "s")),
    "read_message": (("Bundle", "r"),),
    "replay_message": (("Bundle", "u"),),
    # An onward referral makes a ServiceRequest, a Task, a message Bundle (and a Consent when
    # shared on a lawful basis), and moves the referral to referred-on (as update_referral does).
    "create_onward_referral": (
        *_each(("ServiceRequest", "Task", "Bundle", "Consent"), "c"),
        *_each(("ServiceRequest", "Encounter"), "u"),
        *_each(("Patient", "Consent"), "cu"),
        ("Organization", "c"),
    ),
    "read_onward_referral": _each(_ONWARD_SHOWS, "r"),
    "list_onward_referrals": (("ServiceRequest", "s"), *_each(_ONWARD_SHOWS, "r")),
    "cancel_onward_referral": (*_each(("ServiceRequest", "Task"), "u"), ("Bundle", "c")),
    # Every onward referral, or those overdue an answer (a search across referrals).
    "search_onward_referrals": (("ServiceRequest", "s"), *_each(_ONWARD_SHOWS, "r")),
    # An answer queues a response Bundle (a Task and the referrer's ServiceRequest in it) and
    # moves the referral's pathway on, as update_referral does.
    "record_decision": _ANSWER_WRITES,
    "record_outcome": _ANSWER_WRITES,
    "list_answers": (("ServiceRequest", "r"), ("Task", "r")),
    # A justice report shows the person, the consent and the onward referrals (ServiceRequest,
    # Task), and is kept as a DocumentReference.
    "justice_report": (
        *_each(("ServiceRequest", "Patient", "Consent", "Task"), "r"),
        ("DocumentReference", "c"),
    ),
}


def require_native(operation: str) -> None:
    """Raise Forbidden unless the token grants every scope the operation needs."""
    require_scopes(*NATIVE_SCOPES[operation])


def scope_list(operation: str) -> str:
    """The scopes an operation needs, for documentation: system/Patient.cu, system/Flag.c, ..."""
    letters: dict[str, str] = {}
    for resource_type, interaction in NATIVE_SCOPES[operation]:
        letters[resource_type] = letters.get(resource_type, "") + interaction
    ordered = {t: "".join(i for i in "cruds" if i in v) for t, v in letters.items()}
    return ", ".join(f"system/{t}.{v}" for t, v in ordered.items())
