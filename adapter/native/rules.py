"""Cross-field rules of the native referral, reported as marshmallow error dicts."""

from __future__ import annotations

from datetime import date

ADULT_AGE = 18


def check_unique(values: list, name: str, errors: dict, suffix: str | None = None) -> None:
    """Record an error for each repeat of an earlier value."""
    seen = set()
    for index, value in enumerate(values):
        if value in seen:
            message = f"Expected each {suffix or 'code'} at most once."
            errors.setdefault(name, {})[index] = {suffix: [message]} if suffix else [message]
        seen.add(value)


def check_age(birth: date | None, on: date, youth: object, errors: dict) -> None:
    """Birth date not after the referral; a youth block only for someone under 18 then."""
    if birth is None:
        if youth is not None:
            errors["youth"] = ["Expected person.birth_date when a youth block is given."]
        return
    if birth > on:
        errors["person"] = {"birth_date": ["Expected a birth date on or before received_at."]}
        return
    age = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    if youth is not None and age >= ADULT_AGE:
        errors["youth"] = ["Expected a youth block only for a person under 18 at received_at."]
