"""Data loaded into the store at start: service directory, partners, conformance package."""

from __future__ import annotations

from adapter.directory import directory_resources, site_service
from adapter.errors import Unprocessable
from adapter.exchange.partners import load_partners, ods_code
from adapter.services.inbound_referrals import inbound_site, our_organizations
from adapter.services.onward_messages import sender
from adapter.settings import PREFIX, Settings, SettingsError
from adapter.store import Store


def load_service_directory(store: Store, settings: Settings) -> list[dict]:
    """Load (or refresh) the service directory into the store; returns its resources."""
    if not settings.load_directory:
        return []
    resources = directory_resources(settings.directory_path)
    with store.unit_of_work() as uow:
        for resource in resources:
            uow.resources.upsert(resource)
    return resources


# The conformance resource types the FHIR API serves from the package (search parameters exist).
PUBLISHED_TYPES = (
    "StructureDefinition",
    "ValueSet",
    "CodeSystem",
    "ConceptMap",
    "MessageDefinition",
    "Questionnaire",
)


def load_conformance_package(store: Store) -> int:
    """Load (or refresh) the conformance package into the store, so /fhir reads and searches it."""
    from adapter.conformance import conformance_resources

    count = 0
    with store.unit_of_work() as uow:
        for resource_type in PUBLISHED_TYPES:
            for resource in conformance_resources(resource_type):
                uow.resources.upsert(resource)
                count += 1
    return count


def check_sender(settings: Settings, directory: list[dict]) -> None:
    """With partners, LD_ADAPTER_ODS_CODE must name a directory Organization; else SettingsError.

    Every onward referral names us as its sender (onward_messages.sender): found wrong here, it
    stops the start instead of refusing each referral later.
    """
    if settings.partners_path is None:
        return
    try:
        sender(settings, directory)
    except Unprocessable:
        known = sorted(
            filter(None, (ods_code(r) for r in directory if r["resourceType"] == "Organization"))
        )
        where = (
            f"the service directory's trusts are {', '.join(known)}"
            if known
            else f"no service directory is loaded ({PREFIX}LOAD_DIRECTORY)"
        )
        raise SettingsError(
            f"{PREFIX}ODS_CODE {settings.ods_code} names no Organization in the service "
            f"directory, so onward referrals to partners ({PREFIX}PARTNERS) could not say who "
            f"sends them; {where}"
        ) from None


def check_inbound_site(settings: Settings, directory: list[dict]) -> None:
    """With partners, received referrals need a site an L&D service here covers; else SettingsError.

    The site is LD_ADAPTER_INBOUND_SITE or, unset, the first Location of our trust's first L&D
    service (inbound_referrals.inbound_site); found wrong here, it stops the start instead of
    refusing every referral a partner sends.
    """
    if settings.partners_path is None or not settings.load_directory:
        return
    try:
        site = inbound_site(settings, directory)
    except Unprocessable:
        raise SettingsError(
            f"{PREFIX}INBOUND_SITE is unset and {PREFIX}ODS_CODE {settings.ods_code} provides no "
            "L&D service with a Location in the service directory, so referrals received from "
            "partners would have no site; set it to a Location id"
        ) from None
    if site_service(directory, site).provider not in our_organizations(settings, directory):
        raise SettingsError(
            f"{PREFIX}INBOUND_SITE {site} is not a Location an active L&D service of "
            f"{PREFIX}ODS_CODE {settings.ods_code} covers in the service directory, so referrals "
            "received from partners could not be placed there"
        )


def prepare_store(store: Store, settings: Settings) -> list[dict]:
    """Migrate the schema and load the reference data; returns the service directory.

    A partners bundle that cannot be used raises PartnerBundleError (a SettingsError), and so
    does an LD_ADAPTER_ODS_CODE no partner could be told is the sender, or a site received
    referrals could not be placed at.
    """
    store.migrate()
    directory = load_service_directory(store, settings)
    check_sender(settings, directory)
    check_inbound_site(settings, directory)
    load_partners(store, settings, directory)  # after the directory: partners may name its trusts
    load_conformance_package(store)
    return directory
