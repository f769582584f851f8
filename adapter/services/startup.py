"""Data loaded into the store at start: the service directory and the conformance package."""

from __future__ import annotations

from adapter.directory import directory_resources
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
