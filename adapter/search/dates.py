"""FHIR date, dateTime and instant values as half-open UTC ranges [low, high)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

# Times without a zone are read as UTC: the server's zone, stated in the CapabilityStatement.
_PATTERN = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?"
)
MIN = datetime.min.replace(tzinfo=UTC)
MAX = datetime.max.replace(tzinfo=UTC)


def date_range(text: str) -> tuple[datetime, datetime]:
    """The range a (partial) date or dateTime covers; ValueError if it is not one."""
    match = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ValueError("not a FHIR date or dateTime")
    parts = match.groupdict()
    year = int(parts["year"])
    if parts["month"] is None:
        return _utc(datetime(year, 1, 1)), _utc_or_max(year + 1, 1, 1)
    month = int(parts["month"])
    if parts["day"] is None:
        low = datetime(year, month, 1)
        return _utc(low), _utc_or_max(year + month // 12, month % 12 + 1, 1)
    day = datetime(year, month, int(parts["day"]))
    if parts["hour"] is None:
        return _utc(day), _add(_utc(day), timedelta(days=1))
    return _time_range(day, parts)


def period_range(period: dict) -> tuple[datetime, datetime]:
    """The range of a FHIR Period; an open end is unbounded."""
    low = date_range(period["start"])[0] if period.get("start") else MIN
    high = date_range(period["end"])[1] if period.get("end") else MAX
    return low, high


def _time_range(day: datetime, parts: dict) -> tuple[datetime, datetime]:
    hour, minute = int(parts["hour"]), int(parts["minute"])
    if hour > 23 or minute > 59:
        raise ValueError("hour or minute out of range")
    second = int(parts["second"] or 0)
    fraction = parts["fraction"] or ""
    micro = int((fraction + "000000")[:6])
    local = day.replace(hour=hour, minute=minute, second=second, microsecond=micro)
    if parts["second"] is None:
        width = timedelta(minutes=1)
    elif fraction:
        width = timedelta(microseconds=max(1, 10 ** (6 - min(len(fraction), 6))))
    else:
        width = timedelta(seconds=1)
    low = _with_zone(local, parts["zone"])
    return low, _add(low, width)


def _with_zone(local: datetime, zone: str | None) -> datetime:
    if zone in (None, "Z"):
        return local.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    if offset > timedelta(hours=14):
        raise ValueError("time zone offset out of range")
    try:
        return (local - sign * offset).replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError("date out of range") from None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC)


def _utc_or_max(year: int, month: int, day: int) -> datetime:
    return MAX if year > 9999 else datetime(year, month, day, tzinfo=UTC)


def _add(value: datetime, delta: timedelta) -> datetime:
    return MAX if value > MAX - delta else value + delta
