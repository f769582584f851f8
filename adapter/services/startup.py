"""Data loaded into the store at start: service directory, partners, conformance package."""

from __future__ import annotations

from adapter.directory import directory_resources
from adapter.exchange.partners import load_partners
from adapter.settings import Settings
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


def prepare_store(store: Store, settings: Settings) -> list[dict]:
    """Migrate the schema and load the reference data; returns the service directory.

    A partners bundle that cannot be used raises PartnerBundleError (a SettingsError).
    """
    store.migrate()
    directory = load_service_directory(store, settings)
    load_partners(store, settings)  # after the directory: partners may name its trusts
    load_conformance_package(store)
    return directory
