"""The service directory data (mappings/service-directory) and adapter.directory's look-ups."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import given
from hypothesis import strategies as st

from adapter.directory import DEFAULT_DIRECTORY, directory_resources, next_open, service_for_site
from adapter.mapping.codes import terminology_files

LONDON = ZoneInfo("Europe/London")
UKCORE = "https://fhir.hl7.org.uk/StructureDefinition/UKCore-"
ODS = "https://fhir.nhs.uk/Id/ods-organization-code"
PROJECT_BASE = "https://ld-adapter.github.io/fhir/CodeSystem/"
FILES = sorted(DEFAULT_DIRECTORY.glob("*.json"))
SITES = {
    "custody-telford": "mpft-ld-shropshire-telford",
    "custody-shrewsbury": "mpft-ld-shropshire-telford",
    "custody-hereford": "mpft-ld-hereford",
    "custody-worcester": "mpft-ld-worcester-kidderminster",
    "custody-kidderminster": "mpft-ld-worcester-kidderminster",
    "custody-watling-street": "mpft-ld-south-staffordshire",
    "court-cannock-magistrates": "mpft-ld-south-staffordshire",
    "custody-birmingham": "bsmhft-cjld",
    "court-birmingham-magistrates": "bsmhft-cjld",
}


@pytest.fixture(scope="module")
def resources() -> list[dict]:
    return directory_resources()


@pytest.fixture(scope="module")
def by_ref(resources: list[dict]) -> dict[str, dict]:
    return {f"{r['resourceType']}/{r['id']}": r for r in resources}


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


# --- the data -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_is_a_valid_r4b_resource_named_after_its_id(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    get_fhir_model_class(raw["resourceType"]).model_validate(raw)
    assert path.name == f"{raw['resourceType']}-{raw['id']}.json"
    assert raw["meta"]["profile"] == [UKCORE + raw["resourceType"]]


def test_the_trusts_carry_their_ods_codes(by_ref: dict[str, dict]) -> None:
    codes = {
        ref: [i["value"] for i in org["identifier"] if i["system"] == ODS]
        for ref, org in by_ref.items()
        if org["resourceType"] == "Organization"
    }
    assert codes == {"Organization/mpft": ["RRE"], "Organization/bsmhft": ["RXT"]}


def test_every_reference_resolves_inside_the_directory(by_ref: dict[str, dict]) -> None:
    refs = []
    for resource in by_ref.values():
        refs += [resource.get("providedBy"), resource.get("managingOrganization")]
        refs += resource.get("location", [])
    dangling = [r["reference"] for r in refs if r and r["reference"] not in by_ref]
    assert dangling == []


def test_each_named_site_is_served_by_exactly_one_service(resources: list[dict]) -> None:
    served: dict[str, list[str]] = {}
    for service in (r for r in resources if r["resourceType"] == "HealthcareService"):
        for ref in service.get("location", []):
            served.setdefault(ref["reference"].removeprefix("Location/"), []).append(service["id"])
    assert served == {site: [service] for site, service in SITES.items()}


def test_project_codes_are_defined_in_the_terminology_folder(resources: list[dict]) -> None:
    systems = {}
    for path in (p for p in terminology_files() if p.stem.startswith("CodeSystem-")):
        code_system = json.loads(path.read_text(encoding="utf-8"))
        systems[code_system["url"]] = {c["code"]: c["display"] for c in code_system["concept"]}
    codings = [
        coding
        for resource in resources
        for concept in resource.get("type", [])
        for coding in concept["coding"]
        if coding["system"].startswith(PROJECT_BASE)
    ]
    assert codings, "the directory should use the project-hosted code systems"
    for coding in codings:
        assert systems[coding["system"]][coding["code"]] == coding["display"]


def test_every_service_states_hours_and_who_is_eligible(resources: list[dict]) -> None:
    services = [r for r in resources if r["resourceType"] == "HealthcareService"]
    assert len(services) == 6
    for service in services:
        assert service["availableTime"], service["id"]
        assert "All ages" in service["eligibility"][0]["comment"], service["id"]
        assert service["type"][0]["coding"][0]["code"] == "D02", service["id"]


# --- directory_resources and service_for_site --------------------------------------------------


def test_directory_resources_reads_a_folder_in_file_name_order(tmp_path: Path) -> None:
    for name, rid in [("b.json", "second"), ("a.json", "first")]:
        (tmp_path / name).write_text(json.dumps({"resourceType": "Location", "id": rid}))
    assert [r["id"] for r in directory_resources(tmp_path)] == ["first", "second"]


def test_directory_resources_names_the_file_that_is_not_a_resource(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text(json.dumps({"id": "x"}))
    with pytest.raises(ValueError, match=r"broken\.json"):
        directory_resources(tmp_path)


def test_directory_resources_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        directory_resources(tmp_path / "nowhere")


@pytest.mark.parametrize(("site", "service"), sorted(SITES.items()))
def test_service_for_site_finds_the_team_at_each_site(
    resources: list[dict], site: str, service: str
) -> None:
    assert service_for_site(resources, site) == f"HealthcareService/{service}"


def test_service_for_site_is_none_for_an_unknown_site(resources: list[dict]) -> None:
    assert service_for_site(resources, "custody-nowhere") is None


def test_service_for_site_skips_an_inactive_service(resources: list[dict]) -> None:
    retired = [
        {**r, "active": False} if r["id"] == "bsmhft-cjld" else r
        for r in resources
        if r["resourceType"] == "HealthcareService"
    ]
    assert service_for_site(retired, "custody-birmingham") is None


# --- next_open ---------------------------------------------------------------------------------


def test_open_now_returns_the_arrival_time(by_ref: dict[str, dict]) -> None:
    at = london(2026, 6, 10, 12, 0)  # a Wednesday
    assert next_open(by_ref["HealthcareService/bsmhft-cjld"], at) is at


def test_arriving_after_friday_closing_is_seen_at_saturday_opening(by_ref: dict) -> None:
    birmingham = by_ref["HealthcareService/bsmhft-cjld"]
    shropshire = by_ref["HealthcareService/mpft-ld-shropshire-telford"]
    assert next_open(birmingham, london(2026, 1, 9, 20, 30)) == london(2026, 1, 10, 8, 0)
    # Closing time itself is closed: 19:00 Friday waits for Saturday's 09:00 start.
    assert next_open(shropshire, london(2026, 1, 9, 19, 0)) == london(2026, 1, 10, 9, 0)


def test_weekend_hours_differ_from_weekday_hours(by_ref: dict[str, dict]) -> None:
    birmingham = by_ref["HealthcareService/bsmhft-cjld"]
    shropshire = by_ref["HealthcareService/mpft-ld-shropshire-telford"]
    worcester = by_ref["HealthcareService/mpft-ld-worcester-kidderminster"]
    assert next_open(birmingham, london(2026, 1, 10, 16, 30)) == london(2026, 1, 11, 8, 0)
    assert next_open(birmingham, london(2026, 1, 11, 17, 0)) == london(2026, 1, 12, 8, 0)
    assert next_open(shropshire, london(2026, 1, 10, 8, 30)) == london(2026, 1, 10, 9, 0)
    open_late = london(2026, 1, 12, 19, 30)  # Monday: custody open until 20:00
    assert next_open(worcester, open_late) is open_late
    assert next_open(worcester, london(2026, 1, 10, 19, 30)) == london(2026, 1, 11, 9, 0)


def test_opening_after_clocks_go_forward_is_in_bst(by_ref: dict[str, dict]) -> None:
    # BST starts 01:00 UTC on Sunday 29 March 2026: 08:00 that morning is 07:00 UTC.
    seen = next_open(
        by_ref["HealthcareService/bsmhft-cjld"], datetime(2026, 3, 28, 17, 0, tzinfo=UTC)
    )
    assert seen == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert seen.utcoffset() == timedelta(hours=1)


def test_opening_after_clocks_go_back_is_in_gmt(by_ref: dict[str, dict]) -> None:
    # BST ends 01:00 UTC on Sunday 25 October 2026: 08:00 that morning is 08:00 UTC.
    seen = next_open(
        by_ref["HealthcareService/bsmhft-cjld"], datetime(2026, 10, 24, 20, 0, tzinfo=UTC)
    )
    assert seen == datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    assert seen.utcoffset() == timedelta(0)


def test_a_utc_arrival_is_judged_by_london_wall_clock(by_ref: dict[str, dict]) -> None:
    shropshire = by_ref["HealthcareService/mpft-ld-shropshire-telford"]
    in_hours = datetime(2026, 7, 1, 7, 30, tzinfo=UTC)  # 08:30 BST
    assert next_open(shropshire, in_hours) is in_hours
    assert next_open(shropshire, datetime(2026, 7, 1, 6, 30, tzinfo=UTC)) == london(
        2026, 7, 1, 8, 0
    )


def test_a_naive_arrival_is_read_as_london_time(by_ref: dict[str, dict]) -> None:
    seen = next_open(by_ref["HealthcareService/bsmhft-cjld"], datetime(2026, 7, 4, 17, 0))
    assert seen == london(2026, 7, 5, 8, 0)


def test_a_slot_past_midnight_and_an_all_day_slot() -> None:
    friday_night = {"daysOfWeek": ["fri"], "availableStartTime": "22:00:00"}
    overnight = {"availableTime": [{**friday_night, "availableEndTime": "06:00:00"}]}
    saturday_2am = london(2026, 1, 10, 2, 0)
    assert next_open(overnight, saturday_2am) is saturday_2am
    assert next_open(overnight, london(2026, 1, 10, 6, 0)) == london(2026, 1, 16, 22, 0)
    weekends = {"availableTime": [{"daysOfWeek": ["sat", "sun"], "allDay": True}]}
    assert next_open(weekends, london(2026, 1, 9, 23, 59)) == london(2026, 1, 10, 0, 0)


def test_a_service_without_hours_is_an_error() -> None:
    with pytest.raises(ValueError, match="no opening hours"):
        next_open({"resourceType": "HealthcareService", "id": "x"}, london(2026, 1, 1, 9, 0))


@given(at=st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)))
def test_next_open_is_the_first_open_moment_at_or_after_arrival(at: datetime) -> None:
    service = json.loads(
        (DEFAULT_DIRECTORY / "HealthcareService-mpft-ld-worcester-kidderminster.json").read_text()
    )
    seen = next_open(service, at)
    assert seen >= at
    assert next_open(service, seen) is seen
    if seen != at:
        # A minute earlier the service was still closed, so no earlier opening was skipped.
        assert next_open(service, seen - timedelta(minutes=1)) == seen


def test_every_narrative_is_well_formed_xhtml(resources: list[dict]) -> None:
    for resource in resources:
        div = resource.get("text", {}).get("div")
        if div:
            root = ElementTree.fromstring(div)  # raises on a stray & or an unclosed tag
            assert root.tag == "{http://www.w3.org/1999/xhtml}div", resource["id"]
