"""Referral use cases: receive, update, read and list. Each runs in one unit of work."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from adapter.directory import SiteService, next_open, site_service
from adapter.domain import Referral, ReferralResourceIds
from adapter.domain.pathway import moved_forward
from adapter.errors import Issue, NotFound
from adapter.mapping import ReferralResources, referral_to_fhir
from adapter.native.referral_schema import dump_referral, load_referral
from adapter.services.common import (
    bare_id,
    ensure_conformant,
    new_id,
    refuse_change,
    reuse_ids,
    save_children,
    service_for_site,
)
from adapter.services.identity import draft_organization_id, resolve_identities
from adapter.store import ReferralFilters, ReferralRecord, Store, UnitOfWork


def receive_referral(store: Store, referral: Referral, directory: list[dict]) -> ReferralRecord:
    """Store a new referral and the FHIR resources made from it, all or nothing.

    Mapping and validation run before the write transaction starts, so on SQLite (one writer at
    a time) concurrent referrals do that work in parallel. The transaction resolves the person
    and organisation under their locks; a duplicate local_id is refused by its unique
    constraint (ReferralRepository.add raises Conflict and nothing is stored).
    """
    service = _site_service(store, referral.site, directory)
    ids = _new_ids(referral)
    resources = _map(referral, ids, service)
    ensure_conformant(resources.all())
    with store.unit_of_work() as uow:
        return _add(uow, referral, ids, resources, service)


def receive_referral_in(
    uow: UnitOfWork, referral: Referral, directory: list[dict], warnings: Iterable[Issue] = ()
) -> ReferralRecord:
    """Store a new referral inside the caller's unit of work (a received message's effect).

    warnings are shown on the record beside the identity warnings, e.g. what the converter
    of a message set aside.
    """
    service = _directory_site_service(uow, referral.site, directory)
    ids = _new_ids(referral)
    resources = _map(referral, ids, service)
    ensure_conformant(resources.all())
    return _add(uow, referral, ids, resources, service, tuple(warnings))


def _new_ids(referral: Referral) -> ReferralResourceIds:
    return ReferralResourceIds(
        patient=new_id(),
        service_request=new_id(),
        encounter=new_id(),
        consents=[new_id() for _ in referral.consents],
        referrer_organization=_draft_organization_id(referral),
    )


def _add(
    uow: UnitOfWork,
    referral: Referral,
    ids: ReferralResourceIds,
    resources: ReferralResources,
    service: SiteService,
    warnings: tuple[Issue, ...] = (),
) -> ReferralRecord:
    """Resolve the person and organisation under their locks, then store everything."""
    resolved = resolve_identities(uow, resources, ids)
    uow.resources.create_many(
        [*resolved.to_create, resources.service_request, resources.encounter, *resources.consents]
    )
    now = datetime.now(UTC)
    record = ReferralRecord(
        id=new_id(),
        version=1,
        created_at=now,
        **_record_fields(referral, ids, service, now),
        warnings=[issue.to_fhir() for issue in (*resolved.warnings, *warnings)],
    )
    return uow.referrals.add(record)


def _site_service(store: Store, site: str, directory: list[dict]) -> SiteService:
    """The L&D service at the site, from the loaded directory (no database round trip).

    The directory is what was loaded into the store at start, so a site it covers is stored;
    any other site goes to service_for_site for the error that says what is wrong with it.
    """
    service = site_service(directory, site)
    if service.performer is None:
        with store.unit_of_work(read_only=True) as uow:
            service = service_for_site(uow, site, directory, "site")
    return service


def _directory_site_service(uow: UnitOfWork, site: str, directory: list[dict]) -> SiteService:
    """The L&D service at the site, without a read when the directory holds its Location.

    Every directory resource is upserted into the store at start and none is ever deleted, so
    a Location the directory holds is stored; any other site is read by service_for_site,
    which says what is wrong with it.
    """
    service = site_service(directory, site)
    listed = any(r.get("resourceType") == "Location" and r.get("id") == site for r in directory)
    if service.performer is None or not listed:
        service = service_for_site(uow, site, directory, "site")
    return service


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


def move_referral_on(
    uow: UnitOfWork, record: ReferralRecord, target: str, directory: list[dict]
) -> None:
    """Move the referral's pathway status on to `target`; never back (a closed one stays so)."""
    if moved_forward(record.status, target) == record.status:
        return
    content = load_referral(record.native)
    replace_referral_content(uow, record, replace(content, status=target), directory)


def replace_referral_content(
    uow: UnitOfWork,
    record: ReferralRecord,
    referral: Referral,
    directory: list[dict],
    expected_version: int | None = None,
    request_status: str | None = None,
) -> ReferralRecord:
    """Store new content for a referral: new versions of its resources (same ids) and record.

    request_status overrides the ServiceRequest status the pathway status implies (a cancelled
    referral is closed, its ServiceRequest revoked rather than completed).
    """
    service = service_for_site(uow, referral.site, directory, "site")
    ids = _ids_from_json(record.resource_ids)
    old_consent_ids = ids.consents
    ids.consents = reuse_ids(old_consent_ids, len(referral.consents))
    ids.referrer_organization = _draft_organization_id(referral)
    resources = _map(referral, ids, service)
    if request_status is not None:
        resources.service_request["status"] = request_status
    ensure_conformant(resources.all())
    resolved = resolve_identities(uow, resources, ids, patient_id_is_stored=True)
    uow.resources.create_many(resolved.to_create)
    for resource in (resources.service_request, resources.encounter):
        uow.resources.update(resource)
    save_children(uow, "Consent", old_consent_ids, resources.consents, "inactive")
    updated = replace(
        record,
        **_record_fields(referral, ids, service, datetime.now(UTC)),
        warnings=[issue.to_fhir() for issue in resolved.warnings],
    )
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


def _map(referral: Referral, ids: ReferralResourceIds, service: SiteService) -> ReferralResources:
    return referral_to_fhir(referral, ids, performer=service.performer, provider=service.provider)


def _draft_organization_id(referral: Referral) -> str | None:
    referrer = referral.referrer
    if referrer is None:
        return None
    return draft_organization_id(bool(referrer.organisation_ods), referrer.organisation_name)


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
