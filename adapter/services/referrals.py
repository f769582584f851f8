"""Referral use cases: receive, update, read and list. Each runs in one unit of work."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from adapter.directory import SiteService, next_open
from adapter.domain import Referral, ReferralResourceIds
from adapter.errors import Conflict, Issue, NotFound
from adapter.mapping import ReferralResources, referral_to_fhir
from adapter.native.referral_schema import dump_referral
from adapter.services.common import (
    bare_id,
    ensure_conformant,
    new_id,
    refuse_change,
    reuse_ids,
    save_children,
    service_for_site,
)
from adapter.store import ReferralFilters, ReferralRecord, Store, UnitOfWork

NHS_NUMBER_SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"
# Namespace of the name-derived ids of referrer organisations sent without an ODS code.
ORGANIZATION_BY_NAME = "https://ld-adapter.github.io/fhir/Organization/by-name/"


def receive_referral(store: Store, referral: Referral, directory: list[dict]) -> ReferralRecord:
    """Store a new referral and the FHIR resources made from it, all or nothing."""
    with store.unit_of_work() as uow:
        if uow.referrals.get_by_local_id(referral.local_id) is not None:
            raise Conflict(
                Issue(
                    "A referral with this local_id has already been received.",
                    code="duplicate",
                    expression=("local_id",),
                )
            )
        service = service_for_site(uow, referral.site, directory, "site")
        ids = ReferralResourceIds(
            patient=new_id(),
            service_request=new_id(),
            encounter=new_id(),
            consents=[new_id() for _ in referral.consents],
            referrer_organization=new_id(),
        )
        resources = _map_with_resolved_ids(uow, referral, ids, service)
        ensure_conformant(resources.all())
        _save_patient(uow, resources.patient)
        for resource in (resources.service_request, resources.encounter, *resources.consents):
            uow.resources.create(resource)
        now = datetime.now(UTC)
        record = ReferralRecord(
            id=new_id(),
            version=1,
            created_at=now,
            **_record_fields(referral, ids, service, now),
        )
        return uow.referrals.add(record)


def update_referral(
    store: Store,
    record_id: str,
    referral: Referral,
    directory: list[dict],
    expected_version: int | None,
) -> ReferralRecord:
    """Replace a referral's content; its FHIR resources get new versions with the same ids."""
    with store.unit_of_work() as uow:
        record = existing_referral(uow, record_id)
        refuse_change(
            "local_id",
            record.local_id,
            referral.local_id,
            "it identifies the referral to its sender",
        )
        return replace_referral_content(uow, record, referral, directory, expected_version)


def replace_referral_content(
    uow: UnitOfWork,
    record: ReferralRecord,
    referral: Referral,
    directory: list[dict],
    expected_version: int | None = None,
) -> ReferralRecord:
    """Store new content for a referral: new versions of its resources (same ids) and record."""
    service = service_for_site(uow, referral.site, directory, "site")
    ids = _ids_from_json(record.resource_ids)
    old_consent_ids = ids.consents
    ids.consents = reuse_ids(old_consent_ids, len(referral.consents))
    ids.referrer_organization = ids.referrer_organization or new_id()
    resources = _map_with_resolved_ids(uow, referral, ids, service)
    ensure_conformant(resources.all())
    _save_patient(uow, resources.patient)
    for resource in (resources.service_request, resources.encounter):
        uow.resources.update(resource)
    save_children(uow, "Consent", old_consent_ids, resources.consents, "inactive")
    updated = replace(record, **_record_fields(referral, ids, service, datetime.now(UTC)))
    return uow.referrals.update(updated, expected_version)


def get_referral(store: Store, record_id: str) -> ReferralRecord:
    """One referral record, or NotFound."""
    with store.unit_of_work(read_only=True) as uow:
        return existing_referral(uow, record_id)


def existing_referral(uow: UnitOfWork, record_id: str) -> ReferralRecord:
    """The referral record with this id, or NotFound."""
    record = uow.referrals.get(record_id)
    if record is None:
        raise NotFound(Issue("No referral has this id.", code="not-found"))
    return record


def list_referrals(
    store: Store, filters: ReferralFilters, limit: int, offset: int
) -> tuple[list[ReferralRecord], int]:
    """A page of referral records matching the filters, and the total."""
    with store.unit_of_work() as uow:
        return uow.referrals.list(filters, limit, offset)


def next_seen_from(record: ReferralRecord, directory: list[dict]) -> datetime | None:
    """When the L&D service for the referral's site is next open, from its received time."""
    service_ref = record.resource_ids.get("performer")
    if not service_ref:
        return None
    service_id = service_ref.split("/", 1)[1]
    for resource in directory:
        if resource["resourceType"] == "HealthcareService" and resource["id"] == service_id:
            return next_open(resource, record.received_at)
    return None


def _match_patient(uow: UnitOfWork, patient: dict) -> dict | None:
    """The stored Patient with the same NHS number, or else the same local identifier."""
    identifiers = sorted(
        patient.get("identifier", []), key=lambda ident: ident.get("system") != NHS_NUMBER_SYSTEM
    )
    for identifier in identifiers:
        found = uow.resources.find_by_identifier(
            "Patient", identifier["system"], identifier["value"]
        )
        if found is not None:
            return found
    return None


def _save_patient(uow: UnitOfWork, patient: dict) -> None:
    """Create the Patient, or add the referral's new identifiers to the stored one.

    A matched person's stored demographics are kept: a later referral's may be less complete.
    """
    stored = uow.resources.read("Patient", patient["id"])
    if stored is None:
        uow.resources.create(patient)
        return
    known = {(i.get("system"), i.get("value")) for i in stored.get("identifier", [])}
    added = [
        i for i in patient.get("identifier", []) if (i.get("system"), i.get("value")) not in known
    ]
    if added:
        uow.resources.update({**stored, "identifier": [*stored.get("identifier", []), *added]})


def _map_with_resolved_ids(
    uow: UnitOfWork, referral: Referral, ids: ReferralResourceIds, service: SiteService
) -> ReferralResources:
    """Map the referral after pointing ids at the stored Patient and referrer Organization, if any.

    A Patient is matched by NHS number, else by a local identifier; an Organization by ODS code,
    or, when the sender gave only a name, by that name. A referrer Organization not stored yet is
    created here.
    """
    draft = referral_to_fhir(referral, ids, performer=service.performer, provider=service.provider)
    stored_patient = _match_patient(uow, draft.patient)
    if stored_patient is not None:
        ids.patient = stored_patient["id"]
    organization = draft.referrer_organization
    if organization is None:
        ids.referrer_organization = None
    else:
        stored_organization = _match_organization(uow, organization)
        if stored_organization is not None:
            ids.referrer_organization = stored_organization["id"]
        else:
            if not organization.get("identifier"):
                ids.referrer_organization = _id_for_name(organization.get("name", ""))
                organization = {**organization, "id": ids.referrer_organization}
            if uow.resources.read("Organization", organization["id"]) is None:
                uow.resources.create(organization)
    return referral_to_fhir(referral, ids, performer=service.performer, provider=service.provider)


def _match_organization(uow: UnitOfWork, organization: dict) -> dict | None:
    for identifier in organization.get("identifier", []):
        found = uow.resources.find_by_identifier(
            "Organization", identifier["system"], identifier["value"]
        )
        if found is not None:
            return found
    return None


def _id_for_name(name: str) -> str:
    """One id per organisation name, so "West Mercia Police" sent twice is one Organization."""
    normalised = " ".join(name.split()).casefold()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ORGANIZATION_BY_NAME}{normalised}"))


def _record_fields(
    referral: Referral, ids: ReferralResourceIds, service: SiteService, now: datetime
) -> dict:
    """The record's columns that follow from the referral's content."""
    return {
        "updated_at": now,
        "local_id": referral.local_id,
        "status": referral.status,
        "received_at": referral.received_at,
        "source": referral.source,
        "setting": referral.setting,
        "site": referral.site,
        "urgency": referral.urgency,
        "nhs_number": referral.person.nhs_number,
        "native": dump_referral(referral),
        "resource_ids": _resource_ids_json(ids, service.performer),
    }


def _resource_ids_json(ids: ReferralResourceIds, performer: str | None) -> dict:
    return {
        "patient": f"Patient/{ids.patient}",
        "service_request": f"ServiceRequest/{ids.service_request}",
        "encounter": f"Encounter/{ids.encounter}",
        "consents": [f"Consent/{consent}" for consent in ids.consents],
        "referrer_organization": (
            f"Organization/{ids.referrer_organization}" if ids.referrer_organization else None
        ),
        "performer": performer,
    }


def _ids_from_json(resource_ids: dict) -> ReferralResourceIds:
    return ReferralResourceIds(
        patient=bare_id(resource_ids["patient"]) or "",
        service_request=bare_id(resource_ids["service_request"]) or "",
        encounter=bare_id(resource_ids["encounter"]) or "",
        consents=[bare_id(c) or "" for c in resource_ids.get("consents", [])],
        referrer_organization=bare_id(resource_ids.get("referrer_organization")),
    )
