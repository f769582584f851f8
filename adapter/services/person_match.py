"""Which stored Patient a referral's person is, never joining identifiers that disagree.

The NHS number decides. Failing it, a local identifier (custody record, PNC, local patient id)
links the person, but only to a stored Patient whose NHS number is not a different one: a
custody number and an NHS number that point at two people are a wrong-patient risk (one of the
two is mistyped or misread), so the referral gets a Patient of its own, with a warning naming
the field, for the team to check, and no stored Patient ever holds two NHS numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adapter.errors import Issue
from adapter.mapping import codes
from adapter.store import UnitOfWork

Key = tuple[str | None, str]

_CHECK = "Check the person's identity."


@dataclass
class PersonMatch:
    """The stored Patient the person is (None: a new one), and what not to add to it."""

    stored: dict | None
    warnings: list[Issue] = field(default_factory=list)
    withheld: set[Key] = field(default_factory=set)
    conflict: bool = False  # the referral needs a new Patient although one was matched


def nhs_number_of(patient: dict) -> str | None:
    """The Patient's (first) NHS number, or None."""
    system = codes.url("identifier.nhs-number")
    numbers = [i.get("value") for i in patient.get("identifier", []) if i.get("system") == system]
    return numbers[0] if numbers else None


def match_person(uow: UnitOfWork, patient: dict, stored_id: str | None = None) -> PersonMatch:
    """Match the referral's Patient to a stored one; stored_id: the fallback (an update's)."""
    nhs = nhs_number_of(patient)
    holders = _holders(uow, patient)
    if nhs is not None:
        system = codes.url("identifier.nhs-number")
        by_nhs = uow.resources.find_by_identifier("Patient", system, nhs)
        if by_nhs is not None:
            return _linked(by_nhs, nhs, holders)
    candidates = _newest_first(holders)
    numbers = {nhs_number_of(c) for c in candidates} - {None}
    if nhs is not None and numbers:
        return PersonMatch(
            None, [_other_nhs_number("with the same local identifier")], conflict=True
        )
    if nhs is None and len(numbers) > 1:
        return PersonMatch(None, [_held_by_several(_ambiguous_index(holders))], conflict=True)
    stored = candidates[0] if candidates else None
    if stored is None and stored_id is not None:
        stored = uow.resources.read("Patient", stored_id)
        known = nhs_number_of(stored) if stored is not None else None
        if nhs is not None and known is not None and known != nhs:
            return PersonMatch(None, [_other_nhs_number("it was linked to")], conflict=True)
    if stored is None:
        return PersonMatch(None)
    return _linked(stored, nhs or nhs_number_of(stored), holders)


def _holders(uow: UnitOfWork, patient: dict) -> dict[Key, list[dict]]:
    """Each local identifier of the Patient, in order, with the stored Patients that hold it."""
    system = codes.url("identifier.nhs-number")
    keys = [
        (i.get("system"), i["value"])
        for i in patient.get("identifier", [])
        if "value" in i and i.get("system") != system
    ]
    return {key: uow.resources.find_all_by_identifier("Patient", *key) for key in keys}


def _newest_first(holders: dict[Key, list[dict]]) -> list[dict]:
    """The holders, by the first-listed identifier they hold, then the most recently updated."""
    ranked: dict[str, tuple[int, dict]] = {}
    for rank, found in enumerate(holders.values()):
        for stored in found:
            ranked.setdefault(stored["id"], (rank, stored))
    by_recency = sorted(ranked.values(), key=lambda r: r[1]["id"])
    by_recency.sort(key=lambda r: r[1].get("meta", {}).get("lastUpdated", ""), reverse=True)
    by_recency.sort(key=lambda r: r[0])
    return [stored for _, stored in by_recency]


def _numbers(found: list[dict]) -> set[str]:
    return {n for n in (nhs_number_of(stored) for stored in found) if n is not None}


def _ambiguous_index(holders: dict[Key, list[dict]]) -> int:
    """The first identifier held by several NHS numbers, else the first held by any."""
    counts = [len(_numbers(found)) for found in holders.values()]
    several = [i for i, count in enumerate(counts) if count > 1]
    return several[0] if several else next(i for i, count in enumerate(counts) if count)


def _linked(stored: dict, nhs: str | None, holders: dict[Key, list[dict]]) -> PersonMatch:
    """Link to stored; a local identifier another person (other NHS number) holds is withheld."""
    match = PersonMatch(stored)
    if nhs is None:
        return match
    for index, (key, found) in enumerate(holders.items()):
        others = [s for s in found if s["id"] != stored["id"]]
        if _numbers(others) - {nhs}:
            match.withheld.add(key)
            match.warnings.append(_held_by_other(index))
    return match


def _other_nhs_number(which: str) -> Issue:
    return Issue(
        f"person.nhs_number differs from the NHS number of the stored person {which}; the "
        "referral is not linked to that person and has a person record of its own. "
        f"{_CHECK}",
        code="business-rule",
        severity="warning",
        expression=("person.nhs_number",),
    )


def _held_by_several(index: int) -> Issue:
    field_name = f"person.local_identifiers[{index}]"
    return Issue(
        f"{field_name} is held by stored persons with different NHS numbers; without an NHS "
        f"number the referral is linked to none of them and has a person record of its own. "
        f"{_CHECK}",
        code="business-rule",
        severity="warning",
        expression=(field_name,),
    )


def _held_by_other(index: int) -> Issue:
    field_name = f"person.local_identifiers[{index}]"
    return Issue(
        f"{field_name} is also held by a stored person with a different NHS number; the referral "
        f"is linked by its NHS number and that identifier is not added to the person. {_CHECK}",
        code="business-rule",
        severity="warning",
        expression=(field_name,),
    )
