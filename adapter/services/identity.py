"""One Patient per person and one Organization per referrer organisation, even under races.

Matching is find-then-create, which two transactions can both do at once. We serialise it per
match key with a transaction-scoped advisory lock (PostgreSQL `pg_advisory_xact_lock` on a hash
of "Patient|system|value", "Organization|system|value" or the name-derived Organization id),
released at commit: a lookup made after taking the lock is a new READ COMMITTED statement, so it
sees the Patient the previous holder created. A person's keys are locked before their lookup; an
organisation is looked up first and locked (then looked up again) only when it is not stored.
Chosen over a unique index on a match-key table because it needs no new table kept in step with
every identifier change, leaves duplicates made before it readable instead of failing a
migration, and never makes a referral fail on a unique violation it would have to retry.
SQLite needs no lock: its write transactions (BEGIN IMMEDIATE) already run one at a time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from adapter.domain import ReferralResourceIds
from adapter.errors import Issue
from adapter.mapping import ReferralResources, codes
from adapter.services.person_match import PersonMatch, match_person, nhs_number_of
from adapter.store import UnitOfWork

# Namespace of the name-derived ids of referrer organisations sent without an ODS code.
ORGANIZATION_BY_NAME = "https://ld-adapter.github.io/fhir/Organization/by-name/"
# Patient elements a later referral brings up to date: how to reach the person now.
CONTACT_ELEMENTS = ("address", "telecom")
# (Patient element, native field) pairs that identify the person: kept, and a difference said.
IDENTITY_ELEMENTS = (("birthDate", "person.birth_date"), ("family", "person.family_name"))


@dataclass
class Resolved:
    """What resolving identities did: resources to create and data-quality warnings."""

    to_create: list[dict] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


def draft_organization_id(has_ods_code: bool, name: str | None) -> str:
    """A fresh id for an ODS-coded organisation; one id per name for a name-only one."""
    if has_ods_code or not name:
        return str(uuid.uuid4())
    normalised = " ".join(name.split()).casefold()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ORGANIZATION_BY_NAME}{normalised}"))


def resolve_identities(
    uow: UnitOfWork,
    resources: ReferralResources,
    ids: ReferralResourceIds,
    patient_id_is_stored: bool = False,
) -> Resolved:
    """Point the resources at the stored Patient and Organization, storing or updating them.

    Must run inside the write transaction that stores the referral (the locks last until it ends).
    patient_id_is_stored: the Patient's id is a stored one (an update), the fallback match.
    The person's keys are always locked (few referrals share a person); an organisation's only
    when it is not stored yet, so a busy referrer is not one lock every referral queues on.
    """
    patient, organization = resources.patient, resources.referrer_organization
    stored_organization = _match_organization(uow, organization) if organization else None
    keys = _match_keys(patient)
    if organization is not None and stored_organization is None:
        keys += _match_keys(organization)
    uow.lock_keys(keys)
    # Under the lock, a new statement sees what the transactions before ours committed.
    match = match_person(uow, patient, patient["id"] if patient_id_is_stored else None)
    if organization is not None and stored_organization is None:
        stored_organization = _match_organization(uow, organization)
    resolved = Resolved()
    _resolve_patient(uow, resources, ids, match, resolved)
    if organization is None:
        ids.referrer_organization = None
    else:
        _resolve_organization(resources, ids, organization, stored_organization, resolved)
    return resolved


def _match_keys(resource: dict) -> list[str]:
    identifiers = [i for i in resource.get("identifier", []) if "value" in i]
    if resource["resourceType"] == "Organization" and not identifiers:
        return [f"Organization|{resource['id']}"]
    return [f"{resource['resourceType']}|{i.get('system')}|{i['value']}" for i in identifiers]


def _resolve_patient(
    uow: UnitOfWork,
    resources: ReferralResources,
    ids: ReferralResourceIds,
    match: PersonMatch,
    resolved: Resolved,
) -> None:
    patient, stored = resources.patient, match.stored
    resolved.warnings.extend(match.warnings)
    if stored is None:
        if match.conflict:
            # The id may be a stored one (an update's, holding the other NHS number): a fresh one.
            _retarget(resources, f"Patient/{patient['id']}", f"Patient/{uuid.uuid4()}")
            ids.patient = patient["id"]
        resolved.to_create.append(patient)
        return
    if stored["id"] != patient["id"]:
        _retarget(resources, f"Patient/{patient['id']}", f"Patient/{stored['id']}")
        ids.patient = stored["id"]
    resolved.warnings.extend(_identity_differences(stored, patient))
    merged = _merged_patient(stored, patient, match.withheld)
    if merged is not None:
        uow.resources.update(merged)


def _identity_differences(stored: dict, sent: dict) -> list[Issue]:
    """A warning per identifying element the referral gives differently from the stored Patient."""
    issues = []
    for element, native_field in IDENTITY_ELEMENTS:
        kept, given = _identity_value(stored, element), _identity_value(sent, element)
        if given is not None and kept is not None and given != kept:
            issues.append(
                Issue(
                    f"{native_field} differs from the stored person with the same identifier; "
                    "the referral is linked to that person and the stored value is kept. "
                    "Check the person's identity.",
                    code="business-rule",
                    severity="warning",
                    expression=(native_field,),
                )
            )
    return issues


def _identity_value(patient: dict, element: str) -> str | None:
    if element == "family":
        families = [n.get("family") for n in patient.get("name", []) if n.get("family")]
        return families[0].casefold() if families else None
    value = patient.get(element)
    return value if isinstance(value, str) else None


def _merged_patient(stored: dict, sent: dict, withheld: set) -> dict | None:
    """The stored Patient with the referral's new identifiers and contact details, or None.

    Identity (names, birth date, gender) is kept: a later referral's may be less complete or
    wrong. Contact details are the referral's when it has them: the newer way to reach the person.
    An NHS number is added only to a Patient without one; withheld identifiers never.
    """
    merged = dict(stored)
    known = {(i.get("system"), i.get("value")) for i in stored.get("identifier", [])} | withheld
    has_nhs_number = nhs_number_of(stored) is not None
    added = [
        i
        for i in sent.get("identifier", [])
        if (i.get("system"), i.get("value")) not in known
        and not (has_nhs_number and i.get("system") == codes.url("identifier.nhs-number"))
    ]
    if added:
        merged["identifier"] = [*stored.get("identifier", []), *added]
    for element in CONTACT_ELEMENTS:
        if sent.get(element):
            merged[element] = sent[element]
    return merged if merged != stored else None


def _resolve_organization(
    resources: ReferralResources,
    ids: ReferralResourceIds,
    organization: dict,
    stored: dict | None,
    resolved: Resolved,
) -> None:
    if stored is None:
        resolved.to_create.append(organization)
        return
    if stored["id"] != organization["id"]:
        _retarget(resources, f"Organization/{organization['id']}", f"Organization/{stored['id']}")
        ids.referrer_organization = stored["id"]
    resources.referrer_organization = stored


def _match_organization(uow: UnitOfWork, organization: dict) -> dict | None:
    """The stored Organization with the ODS code, or (name only) with the name-derived id."""
    identifiers = [(i.get("system"), i["value"]) for i in organization.get("identifier", [])]
    if identifiers:
        return uow.resources.find_by_identifiers("Organization", identifiers)
    return uow.resources.read("Organization", organization["id"])


def _retarget(resources: ReferralResources, old: str, new: str) -> None:
    """Point every reference to `old` at `new`, and give the resource itself the new id."""
    for resource in resources.all():
        if f"{resource['resourceType']}/{resource['id']}" == old:
            resource["id"] = new.split("/", 1)[1]
        _replace_references(resource, old, new)


def _replace_references(node: object, old: str, new: str) -> None:
    if isinstance(node, dict):
        if node.get("reference") == old:
            node["reference"] = new
        for value in node.values():
            _replace_references(value, old, new)
    elif isinstance(node, list):
        for value in node:
            _replace_references(value, old, new)
