"""Person ⇄ UK Core Patient."""

from __future__ import annotations

import re

from adapter.domain import Address, LocalIdentifier, Person
from adapter.mapping import codes
from adapter.mapping.common import as_dict, as_list, parse_date, profile, string_or_none

_ETHNIC = "UKCore-EthnicCategoryEngland"
_ID_TYPE = "ld-local-identifier-type"
_ID_SYSTEM = "identifier-system"
# An assigner that looks like an ODS code is sent as a logical reference; anything else as display.
_ODS_CODE = re.compile(r"[A-Z0-9]{3,10}")


def patient_from_person(person: Person, patient_id: str) -> dict:
    """A UK Core Patient for the person."""
    patient: dict = {"resourceType": "Patient", "id": patient_id, "meta": profile("Patient")}
    if person.ethnic_category:
        patient["extension"] = [
            {
                "url": codes.url("extension.ethnic-category"),
                "valueCodeableConcept": {"coding": [codes.coding(_ETHNIC, person.ethnic_category)]},
            }
        ]
    identifiers = [_local_identifier(li) for li in person.local_identifiers]
    if person.nhs_number:
        identifiers.insert(0, _nhs_number(person.nhs_number))
    if identifiers:
        patient["identifier"] = identifiers
    if person.family_name or person.given_names:
        name: dict = {"use": "official"}
        if person.family_name:
            name["family"] = person.family_name
        if person.given_names:
            name["given"] = list(person.given_names)
        patient["name"] = [name]
    if person.gender:
        patient["gender"] = person.gender
    if person.birth_date:
        patient["birthDate"] = person.birth_date.isoformat()
    if person.address:
        patient["address"] = [_address(person.address)]
    if person.registered_gp_ods:
        patient["generalPractitioner"] = [
            {
                "identifier": {
                    "system": codes.url("identifier.ods-organization-code"),
                    "value": person.registered_gp_ods,
                }
            }
        ]
    return patient


def _nhs_number(number: str) -> dict:
    status = codes.url("value.nhs-number-verification-status")
    return {
        "extension": [
            {
                "url": codes.url("extension.nhs-number-verification-status"),
                "valueCodeableConcept": {
                    "coding": [codes.coding("UKCore-NHSNumberVerificationStatusEngland", status)]
                },
            }
        ],
        "system": codes.url("identifier.nhs-number"),
        "value": number,
    }


def _local_identifier(local: LocalIdentifier) -> dict:
    identifier: dict = {
        "type": {"coding": [codes.coding(_ID_TYPE, local.type)]},
        "system": codes.prop(_ID_TYPE, local.type, _ID_SYSTEM),
        "value": local.value,
    }
    if local.assigner is not None:
        if _ODS_CODE.fullmatch(local.assigner):
            identifier["assigner"] = {
                "identifier": {
                    "system": codes.url("identifier.ods-organization-code"),
                    "value": local.assigner,
                }
            }
        else:
            identifier["assigner"] = {"display": local.assigner}
    return identifier


def _address(address: Address) -> dict:
    out: dict = {"use": "home"}
    if address.lines:
        out["line"] = list(address.lines)
    for key, value in (
        ("city", address.city),
        ("district", address.district),
        ("postalCode", address.postcode),
    ):
        if value:
            out[key] = value
    return out


def person_from_patient(patient: dict) -> Person:
    """The Person in a (UK Core) Patient; elements the domain has no place for are ignored."""
    identifiers = [i for i in as_list(patient.get("identifier")) if isinstance(i, dict)]
    family, given = _name(patient.get("name"))
    gender = patient.get("gender")
    return Person(
        family_name=family,
        given_names=given,
        nhs_number=_nhs_number_of(identifiers),
        local_identifiers=tuple(_local_identifiers_of(identifiers)),
        birth_date=parse_date(patient.get("birthDate"), "Patient.birthDate"),
        gender=gender if codes.has("administrative-gender", gender) else None,
        ethnic_category=_ethnic_category_of(patient),
        address=_address_of(patient.get("address")),
        registered_gp_ods=_gp_of(patient.get("generalPractitioner")),
    )


def _nhs_number_of(identifiers: list[dict]) -> str | None:
    # Either verification-status code system may accompany it; the number itself is what we keep.
    system = codes.url("identifier.nhs-number")
    for identifier in identifiers:
        if identifier.get("system") == system:
            return string_or_none(identifier.get("value"))
    return None


def _local_identifiers_of(identifiers: list[dict]) -> list[LocalIdentifier]:
    found = []
    for identifier in identifiers:
        id_type = codes.code_with_property(_ID_TYPE, _ID_SYSTEM, identifier.get("system"))
        value = string_or_none(identifier.get("value"))
        if id_type is None or value is None:
            continue
        assigner = as_dict(identifier.get("assigner"))
        assigned = as_dict(assigner.get("identifier")).get("value") or assigner.get("display")
        found.append(LocalIdentifier(id_type, value, string_or_none(assigned)))
    return found


def _name(names: object) -> tuple[str | None, tuple[str, ...]]:
    candidates = [n for n in names or () if isinstance(n, dict)] if isinstance(names, list) else []
    if not candidates:
        return None, ()
    chosen = next((n for n in candidates if n.get("use") == "official"), candidates[0])
    given = tuple(g for g in as_list(chosen.get("given")) if isinstance(g, str) and g)
    return string_or_none(chosen.get("family")), given


def _ethnic_category_of(patient: dict) -> str | None:
    systems = (codes.system(_ETHNIC), codes.url("system.ethnic-category-older"))
    wanted = codes.url("extension.ethnic-category")
    for ext in as_list(patient.get("extension")):
        if not isinstance(ext, dict) or ext.get("url") != wanted:
            continue
        for coding in as_list(as_dict(ext.get("valueCodeableConcept")).get("coding")):
            if not isinstance(coding, dict) or coding.get("system") not in systems:
                continue
            code = coding.get("code")
            if codes.has(_ETHNIC, code):
                return code
    return None


def _address_of(addresses: object) -> Address | None:
    candidates = (
        [a for a in addresses or () if isinstance(a, dict)] if isinstance(addresses, list) else []
    )
    if not candidates:
        return None
    chosen = next((a for a in candidates if a.get("use") == "home"), candidates[0])
    address = Address(
        lines=tuple(line for line in as_list(chosen.get("line")) if isinstance(line, str) and line),
        city=string_or_none(chosen.get("city")),
        district=string_or_none(chosen.get("district")),
        postcode=string_or_none(chosen.get("postalCode")),
    )
    return address if address != Address() else None


def _gp_of(practitioners: object) -> str | None:
    system = codes.url("identifier.ods-organization-code")
    for ref in practitioners or () if isinstance(practitioners, list) else ():
        identifier = ref.get("identifier") if isinstance(ref, dict) else None
        if isinstance(identifier, dict) and identifier.get("system") == system:
            return string_or_none(identifier.get("value"))
    return None
