"""Partners bundles: the shipped ones load; each kind of bad entry is refused, naming the entry."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from adapter.directory import directory_resources
from adapter.exchange.partner_rules import concepts
from adapter.exchange.partners import (
    Partner,
    PartnerBundleError,
    load_partner_bundle,
    mesh_workflow,
    transport_of,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "mappings" / "partners" / "example-partners.json"
LOCAL = ROOT / "fixtures" / "partners" / "local-partners.json"
PATHWAYS = "https://ld-adapter.github.io/fhir/CodeSystem/ld-onward-referral"
RECIPIENT_TYPES = "https://ld-adapter.github.io/fhir/CodeSystem/ld-recipient-type"
DIRECTORY = {f"{r['resourceType']}/{r['id']}": r for r in directory_resources()}


def by_key(resources: list[dict]) -> dict[str, dict]:
    return {f"{r['resourceType']}/{r['id']}": r for r in resources}


def partners(resources: list[dict]) -> dict[str, Partner]:
    """Every partner in loaded resources, resolved as partner_for_service would."""
    known = {**DIRECTORY, **by_key(resources)}
    found = {}
    for service in (r for r in resources if r["resourceType"] == "HealthcareService"):
        endpoint = known[service["endpoint"][0]["reference"]]
        found[service["id"]] = Partner(service, known[service["providedBy"]["reference"]], endpoint)
    return found


def test_the_example_partners_load_apart_from_their_key_files() -> None:
    resources = load_partner_bundle(EXAMPLE, DIRECTORY.get, check_files=False)
    with pytest.raises(PartnerBundleError) as refused:
        load_partner_bundle(EXAMPLE, DIRECTORY.get)
    assert refused.value.problems and all("does not exist" in p for p in refused.value.problems)
    found = partners(resources)
    assert found["bsmhft-ld-home-area"].ods_code == "RXT"
    assert found["mpft-ld-home-area"].ods_code == "RRE"
    assert found["bsmhft-ld-home-area"].recipient_type == "home-area-ld"
    assert found["example-medical-practice-gp"].pathways == {"gp"}


def test_the_example_partners_cover_the_seed_services_usual_pathways() -> None:
    found = partners(load_partner_bundle(EXAMPLE, DIRECTORY.get, check_files=False))
    pathways = set().union(*(p.pathways for p in found.values()))
    usual = {
        "crisis-team",
        "mha-assessment",
        "primary-mental-health",
        "secondary-mental-health",
        "substance-misuse",
        "prison-in-reach",
        "gp",
        "housing",
        "financial-advice",
        "adult-safeguarding",
        "child-safeguarding",
        "home-area-ld",
        "criminal-justice",
    }
    assert usual <= pathways
    assert {p.recipient_type for p in found.values()} == set(concepts(RECIPIENT_TYPES) or ())
    assert found["example-probation-court-team"].recipient_type == "criminal-justice"


def test_the_example_endpoints_vary_their_authentication() -> None:
    resources = load_partner_bundle(EXAMPLE, DIRECTORY.get, check_files=False)
    types = {
        part["valueCode"]
        for r in resources
        for ext in r.get("extension", [])
        for part in ext["extension"]
        if part["url"] == "type"
    }
    assert types == {"none", "bearer", "oauth2-client-credentials", "mutual-tls"}


def test_the_local_partners_are_the_example_ones_at_the_loopback_partner() -> None:
    example = load_partner_bundle(EXAMPLE, DIRECTORY.get, check_files=False)
    local = load_partner_bundle(LOCAL, DIRECTORY.get)
    assert [(r["resourceType"], r["id"]) for r in local] == [
        (r["resourceType"], r["id"]) for r in example
    ]
    endpoints = [r for r in local if r["resourceType"] == "Endpoint"]
    assert {e["address"] for e in endpoints} == {"http://127.0.0.1:8091/fhir"}


# --- refusals -------------------------------------------------------------------------------


def refusal(tmp_path: Path, change: Callable[[dict, dict[str, dict]], None]) -> list[str]:
    """The problems found after `change(bundle, resources by Type/id)` to the local bundle."""
    bundle = json.loads(LOCAL.read_text())
    change(bundle, {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
                    for e in bundle["entry"]})  # fmt: skip
    path = tmp_path / "partners.json"
    path.write_text(json.dumps(bundle))
    with pytest.raises(PartnerBundleError) as refused:
        load_partner_bundle(path, DIRECTORY.get)
    assert str(path) in str(refused.value)
    return refused.value.problems


def entry(bundle: dict, key: str) -> str:
    """`Bundle.entry[i] (key)`, the label a problem with that resource carries."""
    keys = [f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"]]
    return f"Bundle.entry[{keys.index(key)}] ({key})"


GP = "HealthcareService/example-medical-practice-gp"
GP_ENDPOINT = "Endpoint/example-medical-practice-fhir-msg"
GP_ORG = "Organization/example-medical-practice"


def test_a_missing_file_and_bad_json_are_named(tmp_path: Path) -> None:
    with pytest.raises(PartnerBundleError, match="cannot be read"):
        load_partner_bundle(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(PartnerBundleError, match="is not JSON"):
        load_partner_bundle(tmp_path / "bad.json")


def test_only_a_collection_bundle_will_do(tmp_path: Path) -> None:
    problems = refusal(tmp_path, lambda b, _: b.update(type="transaction"))
    assert problems == ["Bundle: must be a collection Bundle with entries"]


def test_entries_without_a_usable_resource_are_named(tmp_path: Path) -> None:
    def change(bundle: dict, _: dict) -> None:
        bundle["entry"][1] = {"fullUrl": "urn:uuid:1"}
        bundle["entry"][2]["resource"].pop("id")
        bundle["entry"].append({"resource": {"resourceType": "Patient", "id": "p1"}})
        bundle["entry"].append(copy.deepcopy(bundle["entry"][0]))

    problems = refusal(tmp_path, change)
    count = len(json.loads(LOCAL.read_text())["entry"])
    assert problems[:4] == [
        "Bundle.entry[1]: has no resource",
        "Bundle.entry[2]: HealthcareService needs an id",
        f"Bundle.entry[{count}] (Patient/p1): only Organization, HealthcareService and "
        "Endpoint belong in a partners bundle",
        f"Bundle.entry[{count + 1}] (Endpoint/mpft-fhir-msg): appears twice",
    ]


def test_what_our_validator_refuses_is_named_with_its_element(tmp_path: Path) -> None:
    bundle = json.loads(LOCAL.read_text())
    problems = refusal(tmp_path, lambda _, r: r[GP_ENDPOINT].update(status="sleeping"))
    assert any(p.startswith(f"{entry(bundle, GP_ENDPOINT)}: Endpoint.status:") for p in problems)


def test_an_organization_needs_an_ods_code(tmp_path: Path) -> None:
    bundle = json.loads(LOCAL.read_text())
    problems = refusal(tmp_path, lambda _, r: r[GP_ORG].pop("identifier"))
    assert f"{entry(bundle, GP_ORG)}: identifier: needs an ODS code" in problems[0]


CLIENT_ID = "https://ld-adapter.github.io/fhir/Id/oauth-client-id"


def test_an_oauth_client_id_names_one_organization(tmp_path: Path) -> None:
    bundle = json.loads(LOCAL.read_text())
    council = "Organization/example-council"

    def change(_: dict, r: dict) -> None:
        for key in (GP_ORG, council, GP_ENDPOINT):
            r[key].setdefault("identifier", []).append({"system": CLIENT_ID, "value": "shared"})

    problems = refusal(tmp_path, change)
    assert f"{entry(bundle, council)}: identifier: OAuth client id 'shared' is also " in "".join(
        problems
    )
    assert any(
        p.startswith(f"{entry(bundle, GP_ENDPOINT)}: identifier: an OAuth") for p in problems
    )


def test_a_service_needs_its_provider(tmp_path: Path) -> None:
    bundle = json.loads(LOCAL.read_text())
    change = lambda _, r: r[GP].update(providedBy={"reference": "Organization/nowhere"})  # noqa: E731
    assert refusal(tmp_path, change) == [
        f"{entry(bundle, GP)}: providedBy: must name an Organization in the bundle "
        "(or already stored)"
    ]


def test_a_service_needs_pathway_codes_it_can_accept(tmp_path: Path) -> None:
    bundle = json.loads(LOCAL.read_text())

    def no_pathway(_: dict, r: dict) -> None:
        r[GP]["type"][0]["coding"][0]["code"] = "astrology"

    problems = refusal(tmp_path, no_pathway)
    assert any(
        p.startswith(f"{entry(bundle, GP)}: type: 'astrology' is not a code of") for p in problems
    )
    problems = refusal(tmp_path, lambda _, r: r[GP].pop("type"))
    assert problems == [
        f"{entry(bundle, GP)}: type: needs codes from "
        "https://ld-adapter.github.io/fhir/CodeSystem/ld-onward-referral "
        "(the onward pathways it accepts)"
    ]


def test_a_service_needs_its_recipient_type(tmp_path: Path) -> None:
    bundle = json.loads(LOCAL.read_text())
    problems = refusal(tmp_path, lambda _, r: r[GP].pop("category"))
    assert problems == [
        f"{entry(bundle, GP)}: category: needs exactly one code from {RECIPIENT_TYPES} "
        "(its recipient type)"
    ]


def test_a_service_may_not_carry_two_recipient_types(tmp_path: Path) -> None:
    bundle = json.loads(LOCAL.read_text())

    def also_justice(_: dict, r: dict) -> None:
        justice = {"system": RECIPIENT_TYPES, "code": "criminal-justice"}
        r[GP]["category"].append({"coding": [justice]})

    assert refusal(tmp_path, also_justice) == [
        f"{entry(bundle, GP)}: category: needs exactly one code from {RECIPIENT_TYPES} "
        "(its recipient type), not 2"
    ]
    by_id = {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"]
             for e in bundle["entry"]}  # fmt: skip
    also_justice(bundle, by_id)
    assert Partner(by_id[GP], {}, {}).recipient_type is None  # so partner_for_service refuses it


def test_a_service_takes_only_pathways_its_recipient_type_may(tmp_path: Path) -> None:
    bundle = json.loads(LOCAL.read_text())

    def gp_as_justice(_: dict, r: dict) -> None:
        r[GP]["category"][0]["coding"][0]["code"] = "criminal-justice"

    assert refusal(tmp_path, gp_as_justice) == [
        f"{entry(bundle, GP)}: type: pathway 'gp' is not one a 'criminal-justice' recipient may "
        "take (only health: mappings/onward-referral-rules.json)"
    ]

    def gp_also_home_area(_: dict, r: dict) -> None:
        r[GP]["type"][0]["coding"].append({"system": PATHWAYS, "code": "home-area-ld"})

    problems = refusal(tmp_path, gp_also_home_area)
    assert problems == [
        f"{entry(bundle, GP)}: type: pathway 'home-area-ld' is not one a 'health' recipient may "
        "take (only home-area-ld: mappings/onward-referral-rules.json)"
    ]


@pytest.mark.skipif(
    concepts(RECIPIENT_TYPES) is None, reason="the ld-recipient-type CodeSystem is not merged yet"
)
def test_a_recipient_type_must_be_a_known_one(tmp_path: Path) -> None:
    def change(_: dict, r: dict) -> None:
        r[GP]["category"][0]["coding"][0]["code"] = "anyone"

    assert any("'anyone' is not a code of" in p for p in refusal(tmp_path, change))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"endpoint": []}, "needs an active Endpoint: connectionType"),
        ({"endpoint": [{"reference": "Endpoint/elsewhere"}]}, "Endpoint/elsewhere is not an"),
    ],
)
def test_a_service_needs_a_fhir_messaging_endpoint_in_the_bundle(tmp_path, change, why) -> None:
    bundle = json.loads(LOCAL.read_text())
    problems = refusal(tmp_path, lambda _, r: r[GP].update(change))
    assert any(p.startswith(f"{entry(bundle, GP)}: endpoint: ") and why in p for p in problems)


@pytest.mark.parametrize(
    "change",
    [
        {"status": "off"},
        {"connectionType": {"system": "http://example.org/mesh", "code": "mesh"}},
    ],
)
def test_the_endpoint_must_be_active_fhir_messaging(tmp_path: Path, change: dict) -> None:
    bundle = json.loads(LOCAL.read_text())
    problems = refusal(tmp_path, lambda _, r: r[GP_ENDPOINT].update(change))
    assert (
        f"{entry(bundle, GP)}: endpoint: needs an active Endpoint: connectionType" in problems[-1]
    )


def test_endpoint_authentication_is_checked_and_its_files_must_exist(tmp_path: Path) -> None:
    bundle = json.loads(LOCAL.read_text())
    auth = "https://ld-adapter.github.io/fhir/StructureDefinition/ld-endpoint-auth"

    def bearer_without_token(_: dict, r: dict) -> None:
        r[GP_ENDPOINT]["extension"] = [
            {"url": auth, "extension": [{"url": "type", "valueCode": "bearer"}]}
        ]

    assert refusal(tmp_path, bearer_without_token) == [
        f"{entry(bundle, GP_ENDPOINT)}: ld-endpoint-auth: bearer needs exactly one of "
        "token-env and token-file"
    ]

    def missing_certificate(_: dict, r: dict) -> None:
        parts = [("type", "mutual-tls"), ("cert-file", "/nowhere/c.pem"), ("key-file", "/k")]
        r[GP_ENDPOINT]["extension"] = [
            {
                "url": auth,
                "extension": [
                    {"url": n, "valueCode" if n == "type" else "valueString": v} for n, v in parts
                ],
            }
        ]

    assert refusal(tmp_path, missing_certificate) == [
        f"{entry(bundle, GP_ENDPOINT)}: ld-endpoint-auth: cert-file /nowhere/c.pem does not exist",
        f"{entry(bundle, GP_ENDPOINT)}: ld-endpoint-auth: key-file /k does not exist",
    ]


@pytest.mark.fhirjs
@pytest.mark.parametrize("path", [EXAMPLE, LOCAL], ids=lambda p: p.name)
def test_the_shipped_bundles_pass_fhirjs(fhirjs, path: Path) -> None:  # type: ignore[no-untyped-def]
    assert fhirjs.validate(json.loads(path.read_text())) == []


def _on_mesh(endpoint: dict, **changes: object) -> None:
    endpoint.pop("extension", None)
    endpoint.update(
        connectionType={
            "system": "https://ld-adapter.github.io/fhir/CodeSystem/ld-endpoint-connection-type",
            "code": "mesh",
        },
        address="X26ABC3",
        header=["Mex-WorkflowID: LD_FHIR_MESSAGE"],
    )
    endpoint.update(changes)


def test_a_partner_may_be_reached_over_mesh(tmp_path: Path) -> None:
    bundle = json.loads(LOCAL.read_text())
    for item in bundle["entry"]:
        if item["resource"]["id"] == GP_ENDPOINT.split("/")[1]:
            _on_mesh(item["resource"])
    path = tmp_path / "partners.json"
    path.write_text(json.dumps(bundle))
    resources = load_partner_bundle(path, DIRECTORY.get)
    endpoint = next(r for r in resources if f"Endpoint/{r['id']}" == GP_ENDPOINT)
    assert transport_of(endpoint) == "mesh"
    assert mesh_workflow(endpoint) == "LD_FHIR_MESSAGE"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"header": []}, 'header: a MESH Endpoint needs a header "Mex-WorkflowID: <workflow id>"'),
        (
            {"address": "https://mesh.example"},
            "address: a MESH Endpoint's address is the partner's mailbox id (letters and digits)",
        ),
    ],
)
def test_a_mesh_endpoint_needs_a_mailbox_and_a_workflow(
    tmp_path: Path, changes: dict, problem: str
) -> None:
    bundle = json.loads(LOCAL.read_text())
    problems = refusal(tmp_path, lambda _, r: _on_mesh(r[GP_ENDPOINT], **changes))
    assert f"{entry(bundle, GP_ENDPOINT)}: {problem}" in problems
    assert any(p.startswith(f"{entry(bundle, GP)}: endpoint: needs an active") for p in problems)
