"""NHS number rules: ten digits whose last is the Modulus 11 check digit of the first nine."""

from __future__ import annotations


def is_valid_nhs_number(value: str) -> bool:
    """True when value is ten digits and its check digit is right."""
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    weights = range(10, 1, -1)
    total = sum(int(digit) * weight for digit, weight in zip(value[:9], weights, strict=True))
    check = 11 - (total % 11)
    if check == 11:
        check = 0
    return check != 10 and check == int(value[9])
