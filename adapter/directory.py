"""The L&D service directory (Organization, Location, HealthcareService) and its opening hours."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULT_DIRECTORY = Path(__file__).resolve().parents[1] / "mappings" / "service-directory"
# Opening hours on the services' pages are English wall-clock times, through BST and GMT alike.
SERVICE_TIME_ZONE = "Europe/London"
# FHIR days-of-week codes (required binding), indexed by date.weekday().
FHIR_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Eight days ahead covers every weekly pattern; one day back catches a slot that runs past midnight.
SEARCH_DAYS = range(-1, 8)


def directory_resources(directory: Path | None = None) -> list[dict]:
    """Every resource in the directory folder (one JSON resource per *.json file), by file name."""
    folder = DEFAULT_DIRECTORY if directory is None else directory
    if not folder.is_dir():
        raise FileNotFoundError(f"service directory not found: {folder}")
    resources = []
    for path in sorted(folder.glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        if not (isinstance(resource, dict) and resource.get("resourceType") and resource.get("id")):
            raise ValueError(f"{path.name}: not a FHIR resource with resourceType and id")
        resources.append(resource)
    return resources


def service_at_site(resources: Iterable[dict], site_id: str) -> dict | None:
    """The first active HealthcareService at Location `site_id`, else None."""
    wanted = f"Location/{site_id}"
    for resource in resources:
        if resource.get("resourceType") != "HealthcareService" or resource.get("active") is False:
            continue
        if any(ref.get("reference") == wanted for ref in resource.get("location", [])):
            return resource
    return None


@dataclass(frozen=True)
class SiteService:
    """The L&D service at a site, as references: the HealthcareService and its providing trust."""

    performer: str | None = None
    provider: str | None = None


def site_service(resources: Iterable[dict], site_id: str) -> SiteService:
    """References to the L&D service at Location `site_id` (both None if no service covers it)."""
    service = service_at_site(resources, site_id)
    if service is None:
        return SiteService()
    return SiteService(
        performer=f"HealthcareService/{service['id']}",
        provider=service.get("providedBy", {}).get("reference"),
    )


def service_for_site(resources: Iterable[dict], site_id: str) -> str | None:
    """`HealthcareService/<id>` of the first active service at Location `site_id`, else None."""
    service = service_at_site(resources, site_id)
    return f"HealthcareService/{service['id']}" if service else None


def next_open(service: dict, at: datetime) -> datetime:
    """When a referral arriving at `at` will next be seen: `at` if open, else the next opening.

    Hours come from HealthcareService.availableTime in Europe/London time; a naive `at` is read as
    London time. The result is London time. `availabilityExceptions` (bank holidays) is free text
    and is not applied. Raises ValueError if the service states no hours.
    """
    zone = ZoneInfo(SERVICE_TIME_ZONE)
    local = at.replace(tzinfo=zone) if at.tzinfo is None else at.astimezone(zone)
    instant = local.astimezone(UTC)
    soonest: datetime | None = None
    for offset in SEARCH_DAYS:
        for start, end in _windows(service, local.date() + timedelta(days=offset), zone):
            if start <= instant < end:
                return at
            if instant < start and (soonest is None or start < soonest):
                soonest = start
    if soonest is None:
        raise ValueError(f"HealthcareService/{service.get('id')} states no opening hours")
    return soonest.astimezone(zone)


def _windows(service: dict, day: date, zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """The service's opening windows that start on local `day`, as UTC (start, end) pairs."""
    for slot in service.get("availableTime", []):
        if FHIR_DAYS[day.weekday()] not in slot.get("daysOfWeek", FHIR_DAYS):
            continue
        start_time = time(0) if slot.get("allDay") else _fhir_time(slot.get("availableStartTime"))
        end_time = time(0) if slot.get("allDay") else _fhir_time(slot.get("availableEndTime"))
        # An end at or before the start (or no end) means the slot runs past midnight.
        end_day = day if end_time > start_time else day + timedelta(days=1)
        start = datetime.combine(day, start_time, tzinfo=zone)
        end = datetime.combine(end_day, end_time, tzinfo=zone)
        # In UTC: datetimes sharing a tzinfo compare by wall clock, ambiguous as clocks go back.
        yield start.astimezone(UTC), end.astimezone(UTC)


def _fhir_time(value: str | None) -> time:
    """A FHIR `time` (hh:mm:ss[.fff]); absent means midnight."""
    return time(0) if value is None else time.fromisoformat(value)
