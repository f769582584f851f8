"""FHIR dates as ranges: partial dates, time zones, bad values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapter.search.dates import MAX, date_range, period_range


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("2024", utc(2024, 1, 1), utc(2025, 1, 1)),
        ("2024-12", utc(2024, 12, 1), utc(2025, 1, 1)),
        ("2024-02-29", utc(2024, 2, 29), utc(2024, 3, 1)),
        ("2024-05-17T10:30", utc(2024, 5, 17, 10, 30), utc(2024, 5, 17, 10, 31)),
        ("2024-05-17T10:30:05Z", utc(2024, 5, 17, 10, 30, 5), utc(2024, 5, 17, 10, 30, 6)),
        ("2024-05-17T00:30:00+01:00", utc(2024, 5, 16, 23, 30), utc(2024, 5, 16, 23, 30, 1)),
        (
            "2024-05-17T10:30:05.25Z",
            utc(2024, 5, 17, 10, 30, 5, 250000),
            utc(2024, 5, 17, 10, 30, 5, 260000),
        ),
        ("9999", utc(9999, 1, 1), MAX),
    ],
)
def test_dates_cover_their_precision(text: str, low: datetime, high: datetime) -> None:
    assert date_range(text) == (low, high)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "24",
        "2024-13",
        "2024-02-30",
        "2024-05-17T25:00",
        "2024/05/17",
        "yesterday",
        "2024-05-17T10:30+15:00",
    ],
)
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        date_range(text)


def test_an_open_period_is_unbounded_at_that_end() -> None:
    low, high = period_range({"start": "2024-05-17"})
    assert low == utc(2024, 5, 17) and high == MAX
