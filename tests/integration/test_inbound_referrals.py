"""Referral messages from partners, through the handlers in a receiver's unit of work."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapter import create_app
from adapter.directory import directory_resources
from adapter.errors import AdapterError, Conflict, InvalidInput, NotFound, Unprocessable
from adapter.exchange.partners import Partner
from adapter.services.inbound import Handled, Inbound, dispatch
from adapter.services.startup import load_service_directory
from adapter.settings import Settings, SettingsError
from adapter.store import ReferralFilters, Store
from adapter.store.testing import clear
from tests.integration.store_fixtures import *  # noqa: F403  (the store fixtures)

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "fixtures" / "messages"
BARS = Path("/work/shared/reference/bars")
LOCAL_PARTNERS = ROOT / "fixtures" / "partners" / "local-partners.json"
PARTNERS = json.loads(LOCAL_PARTNERS.read_text())


def partner(service_id: str) -> Partner:
    """A partner of the local partners bundle: its service, organisation and endpoint."""
    # Partners may name the directory's trusts as their providers.
    found = [e["resource"] for e in PARTNERS["entry"]] + directory_resources()
    resources = {f"{r['resourceType']}/{r['id']}": r for r in found}
    service = resources[f"HealthcareService/{service_id}"]
    return Partner(
        service=service,
        organization=resources[service["providedBy"]["reference"]],
        endpoint=resources[service["endpoint"][0]["reference"]],
    )


MPFT_LD = partner("mpft-ld-home-area")  # ODS RRE, an L&D service: source E5
GP = partner("example-medical-practice-gp")  # ODS M99001, a GP practice: source A1


def message(name: str) -> dict:
    path = MESSAGES / name if (MESSAGES / name).exists() else BARS / name
    bundle = json.loads(path.read_text())
    if name.startswith("SERVREQ01"):
        # The published example cancels a 111 validation; as a referral's cancellation its
        # category says referral (the receiver routes only referral categories here).
        focus(bundle)["category"][0]["coding"][0]["code"] = "referral"
    return bundle


def header(bundle: dict) -> dict:
    return bundle["entry"][0]["resource"]


def focus(bundle: dict) -> dict:
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # We are Birmingham (RXT): the default site is bsmhft-cjld's first Location.
    return Settings(home=tmp_path, ods_code="RXT")


@pytest.fixture
def directory(store: Store, settings: Settings) -> list[dict]:
    return load_service_directory(store, settings)


def receive(
    store: Store, settings: Settings, directory: list[dict], bundle: dict, sender: Partner
) -> Handled:
    """What $process-message does once its checks pass: dispatch in one unit of work."""
    inbound = Inbound(
        bundle=bundle,
        header=header(bundle),
        request_id=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        partner=sender,
        received_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
    )
    with store.unit_of_work() as uow:
        return dispatch(uow, settings, directory, inbound)


def _inbound_count(store: Store) -> int:
    import sqlalchemy as sa

    from adapter.store.tables import inbound_message

    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(inbound_message)).scalar())


def test_our_own_onward_referral_becomes_a_referral_here(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    handled = receive(store, settings, directory, message("home-area-ld.message.json"), MPFT_LD)
    assert handled.status == 201 and handled.referral_id
    with store.unit_of_work(read_only=True) as uow:
        record = uow.referrals.get(handled.referral_id)
        assert record is not None
        request = uow.resources.read(
            "ServiceRequest", record.resource_ids["service_request"].split("/")[1]
        )
        consent = uow.resources.read("Consent", record.resource_ids["consents"][0].split("/")[1])
    assert (record.source, record.setting, record.site) == ("E5", "community", "custody-birmingham")
    assert record.local_id == "RRE-onward-1"
    assert record.status == "received" and record.urgency == "urgent"
    assert record.nhs_number == "9990012342"
    native = record.native
    assert native["concerns"] == ["veteran", "alcohol", "acquired-brain-injury"]
    assert [(c["scope"], c["decision"]) for c in native["consents"]] == [
        ("out-of-area-referral", "agreed")
    ]
    assert native["referrer"]["organisation_ods"] == "RRE"
    assert request is not None and request["status"] == "active"
    assert request["performer"] == [{"reference": "HealthcareService/bsmhft-cjld"}]
    assert consent is not None and consent["provision"]["type"] == "permit"


def test_a_bars_referral_from_a_gp_keeps_its_ids_and_flags_a_bad_nhs_number(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    handled = receive(store, settings, directory, message("REFREQ07-Referral-GP-to-OC.json"), GP)
    with store.unit_of_work(read_only=True) as uow:
        record = uow.referrals.get(handled.referral_id or "")
    assert record is not None and handled.status == 201
    assert record.source == "A1"
    assert record.local_id == "M99001-236bb75d-90ef-461f-b71e-fde7f899802c"
    assert record.nhs_number is None  # the example's number fails its Modulus 11 check
    assert any("Modulus 11" in w["diagnostics"] for w in record.warnings)
    identifiers = record.native["person"]["local_identifiers"]
    assert identifiers == [
        {
            "type": "local-patient-id",
            "value": "9589fb37-87a2-48d8-968f-b371429208a8",
            "assigner": "M99001",
        }
    ]
    assert [(c["scope"], c["decision"]) for c in record.native["consents"]] == [
        ("share-health", "agreed")
    ]


def test_the_same_referral_sent_again_is_a_conflict_and_stores_nothing_more(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    bundle = message("home-area-ld.message.json")
    receive(store, settings, directory, bundle, MPFT_LD)
    with pytest.raises(Conflict):
        receive(store, settings, directory, bundle, MPFT_LD)
    assert _referral_count(store) == 1 and _inbound_count(store) == 1


def test_a_message_that_cannot_be_a_referral_here_stores_nothing(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    bundle = message("home-area-ld.message.json")
    patient = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["resource"]["birthDate"] = "2999-01-01"  # after the referral
    with pytest.raises(Unprocessable) as raised:
        receive(store, settings, directory, bundle, MPFT_LD)
    outcome = raised.value.operation_outcome()
    assert "2999" not in json.dumps(outcome)
    at = bundle["entry"].index(patient)
    assert [i["expression"] for i in outcome["issue"]] == [
        [f"Bundle.entry[{at}].resource.birthDate"]
    ]
    assert _referral_count(store) == 0 and _inbound_count(store) == 0


def test_a_new_referral_must_be_active(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    bundle = message("home-area-ld.message.json")
    focus(bundle)["status"] = "draft"
    with pytest.raises(Unprocessable):
        receive(store, settings, directory, bundle, MPFT_LD)


def test_the_site_setting_places_received_referrals(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    placed = replace(settings, inbound_site="court-birmingham-magistrates")
    handled = receive(store, placed, directory, message("home-area-ld.message.json"), MPFT_LD)
    with store.unit_of_work(read_only=True) as uow:
        record = uow.referrals.get(handled.referral_id or "")
    assert record is not None and record.site == "court-birmingham-magistrates"


@pytest.mark.parametrize(
    ("sender", "new", "cancellation", "status"),
    [
        (MPFT_LD, "home-area-ld.message.json", "health-gp.cancellation.json", "revoked"),
        (GP, "REFREQ07-Referral-GP-to-OC.json", "SERVREQ01-Cancellation-Revoked.json", "revoked"),
        (
            GP,
            "REFREQ07-Referral-GP-to-OC.json",
            "SERVREQ01-Cancellation-Revoked.json",
            "entered-in-error",
        ),
    ],
)
def test_a_cancellation_closes_the_referral_and_revokes_its_request_once(
    store: Store,
    settings: Settings,
    directory: list[dict],
    sender: Partner,
    new: str,
    cancellation: str,
    status: str,
) -> None:
    created = receive(store, settings, directory, message(new), sender)
    cancel = message(cancellation)
    focus(cancel)["status"] = status
    handled = receive(store, settings, directory, cancel, sender)
    assert handled == Handled(200, referral_id=created.referral_id)
    with store.unit_of_work(read_only=True) as uow:
        record = uow.referrals.get(created.referral_id or "")
        assert record is not None
        request_id = record.resource_ids["service_request"].split("/")[1]
        history = uow.resources.history("ServiceRequest", request_id)
    assert record.status == "closed" and record.version == 2
    assert record.native["notes"][-1].startswith(f"Cancelled by the referrer ({status})")
    assert sorted(r["status"] for r in history) == ["active", status]
    with pytest.raises(Conflict) as again:
        receive(store, settings, directory, cancel, sender)
    assert again.value.issues[0].code == "conflict"


def test_a_cancellation_of_an_unknown_or_someone_elses_referral_is_not_found(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    with pytest.raises(NotFound):
        receive(store, settings, directory, message("health-gp.cancellation.json"), MPFT_LD)
    receive(store, settings, directory, message("home-area-ld.message.json"), MPFT_LD)
    # Same ServiceRequest identifier, another sender: not theirs to cancel.
    with pytest.raises(NotFound):
        receive(store, settings, directory, message("health-gp.cancellation.json"), GP)
    assert _referral_count(store) == 1


def test_an_update_that_is_not_a_cancellation_is_unprocessable(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    receive(store, settings, directory, message("REFREQ07-Referral-GP-to-OC.json"), GP)
    update = message("SERVREQ01-Cancellation-Revoked.json")
    focus(update)["status"] = "active"
    with pytest.raises(AdapterError) as raised:
        receive(store, settings, directory, update, GP)
    assert raised.value.status == 422


def test_the_published_cancellation_of_a_validation_request_is_not_taken(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    receive(store, settings, directory, message("REFREQ07-Referral-GP-to-OC.json"), GP)
    published = json.loads((BARS / "SERVREQ01-Cancellation-Revoked.json").read_text())
    with pytest.raises(InvalidInput) as raised:
        receive(store, settings, directory, published, GP)
    assert raised.value.issues[0].code == "invariant"


def _referral_count(store: Store) -> int:
    with store.unit_of_work(read_only=True) as uow:
        return uow.referrals.list(ReferralFilters(), 100, 0)[1]


def test_a_site_none_of_our_l_and_d_services_covers_stops_the_app(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, partners_path=LOCAL_PARTNERS, ods_code="RXT")
    create_app(settings).extensions["ld_adapter"].store.dispose()  # default: custody-birmingham
    for site in ("nowhere", "custody-telford"):  # not a Location; MPFT's, not ours
        with pytest.raises(SettingsError) as refused:
            create_app(replace(settings, inbound_site=site))
        assert str(refused.value).startswith(f"LD_ADAPTER_INBOUND_SITE {site} is not a Location")
    ours = replace(settings, inbound_site="court-birmingham-magistrates")
    create_app(ours).extensions["ld_adapter"].store.dispose()


@pytest.mark.postgres
def test_the_same_referral_sent_at_once_under_ten_request_ids_is_stored_once(
    postgres_url: str, settings: Settings
) -> None:
    store = Store.from_url(postgres_url)
    clear(store)
    directory = load_service_directory(store, settings)
    bundle = message("home-area-ld.message.json")

    def send(_: int) -> int:
        try:
            return receive(store, settings, directory, bundle, MPFT_LD).status
        except AdapterError as error:
            return error.status

    try:
        with ThreadPoolExecutor(max_workers=10) as pool:
            statuses = sorted(pool.map(send, range(10)))
        assert statuses == [201] + [409] * 9
        assert _referral_count(store) == 1 and _inbound_count(store) == 1
    finally:
        store.dispose()


def test_a_second_referral_for_the_same_person_matches_them_and_warns_of_differences(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    first = receive(store, settings, directory, message("home-area-ld.message.json"), MPFT_LD)
    again = message("home-area-ld.message.json")
    focus(again)["identifier"][0]["value"] = "onward-2"
    patient = next(
        e["resource"] for e in again["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["birthDate"] = "1970-04-02"
    second = receive(store, settings, directory, again, MPFT_LD)
    with store.unit_of_work(read_only=True) as uow:
        one = uow.referrals.get(first.referral_id or "")
        two = uow.referrals.get(second.referral_id or "")
    assert one is not None and two is not None and one.id != two.id
    assert two.resource_ids["patient"] == one.resource_ids["patient"]  # matched by NHS number
    assert two.warnings and "1970" not in json.dumps(two.warnings)


def _home_area_referral(local_id: str, nhs_number: str) -> dict:
    """The home-area L&D referral, with custody record 22TE/4417/25, an id and an NHS number."""
    bundle = message("home-area-ld.message.json")
    focus(bundle)["identifier"][0]["value"] = local_id
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["identifier"][0]["value"] = nhs_number
    patient["identifier"].append(
        {
            "system": "https://ld-adapter.github.io/fhir/Id/custody-record-number",
            "value": "22TE/4417/25",
        }
    )
    return bundle


def test_a_received_referral_with_another_nhs_number_is_not_merged_by_custody_number(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    first = receive(
        store, settings, directory, _home_area_referral("onward-1", "9990012342"), MPFT_LD
    )
    second = receive(
        store, settings, directory, _home_area_referral("onward-2", "9990012350"), MPFT_LD
    )
    with store.unit_of_work(read_only=True) as uow:
        one = uow.referrals.get(first.referral_id or "")
        two = uow.referrals.get(second.referral_id or "")
        assert one is not None and two is not None
        patients = [
            uow.resources.read("Patient", record.resource_ids["patient"].split("/")[1])
            for record in (one, two)
        ]
    assert one.resource_ids["patient"] != two.resource_ids["patient"]
    assert ["person.nhs_number"] in [w.get("expression") for w in two.warnings]
    numbers = [
        [i["value"] for i in (p or {})["identifier"] if i["system"].endswith("/nhs-number")]
        for p in patients
    ]
    assert numbers == [["9990012342"], ["9990012350"]]


def test_a_received_person_with_two_nhs_numbers_keeps_neither_and_is_flagged(
    store: Store, settings: Settings, directory: list[dict]
) -> None:
    first = receive(
        store, settings, directory, _home_area_referral("onward-1", "9990012342"), MPFT_LD
    )
    bundle = _home_area_referral("onward-2", "9990012342")
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    patient["identifier"].insert(1, {**patient["identifier"][0], "value": "9990012350"})

    second = receive(store, settings, directory, bundle, MPFT_LD)

    with store.unit_of_work(read_only=True) as uow:
        one = uow.referrals.get(first.referral_id or "")
        two = uow.referrals.get(second.referral_id or "")
        assert one is not None and two is not None
        stored = uow.resources.read("Patient", two.resource_ids["patient"].split("/")[1])
    assert two.nhs_number is None
    assert ["Patient.identifier"] in [w.get("expression") for w in two.warnings]
    numbers = [
        i["value"] for i in (stored or {})["identifier"] if i["system"].endswith("/nhs-number")
    ]
    assert numbers == ["9990012342"]  # linked by custody number to a person with one number
    assert two.resource_ids["patient"] == one.resource_ids["patient"]
