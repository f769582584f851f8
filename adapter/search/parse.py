"""Turns search request parameters into a SearchQuery, or InvalidInput naming the parameter."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from adapter.errors import InvalidInput, Issue
from adapter.search.dates import date_range
from adapter.search.definitions import FHIR_ID, SearchParameter, SearchRegistry
from adapter.search.extract import normalise, parse_reference
from adapter.search.query import (
    DATE_PREFIXES,
    MAX_COUNT,
    Criterion,
    DateBound,
    DateCriterion,
    IdCriterion,
    Include,
    LastUpdatedCriterion,
    ReferenceCriterion,
    ReferenceIdentifierCriterion,
    SearchLimits,
    SearchQuery,
    StringCriterion,
    Token,
    TokenCriterion,
)

CONTROL = ("_count", "_offset", "_include", "_format")
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.:]{0,63}")
_STRING_MODIFIERS = {None: "start", "contains": "contains"}
DEFAULT_LIMITS = SearchLimits()


@dataclass(frozen=True)
class ParsedSearch:
    """The query, the parameters ignored as unknown, and the ones used (for the self link)."""

    query: SearchQuery
    unknown: tuple[str, ...]
    used: tuple[tuple[str, str], ...]


class _BadValue(ValueError):
    """A parameter value that cannot be used; the message is safe to show."""


def parse_search(
    resource_type: str,
    params: Sequence[tuple[str, str]],
    registry: SearchRegistry,
    limits: SearchLimits = DEFAULT_LIMITS,
) -> ParsedSearch:
    """Parse (name, value) pairs; all bad values are reported together as one InvalidInput."""
    _check_size(params, limits)
    query = SearchQuery(resource_type)
    criteria: list[Criterion] = []
    includes: list[Include] = []
    unknown: list[str] = []
    used: list[tuple[str, str]] = []
    issues: list[Issue] = []
    for key, raw in params:
        name, _, modifier = key.partition(":")
        if name == "_format":
            continue
        try:
            if "\x00" in key or "\x00" in raw:
                raise _BadValue("Search parameters must not contain NUL characters.")
            if name == "_count":
                query = replace(query, count=_whole_number(raw, name, modifier))
                continue
            if name == "_offset":
                query = replace(query, offset=_whole_number(raw, name, modifier))
                continue
            if name == "_include":
                includes.append(_include(resource_type, raw, modifier, registry))
            elif (parameter := registry.get(resource_type, name)) is None:
                unknown.append(key)
                continue
            else:
                criteria.append(_criterion(parameter, modifier or None, raw, limits.max_values))
        except _BadValue as exc:
            issues.append(Issue(str(exc), code="invalid", expression=(_safe(key),)))
            continue
        used.append((key, raw))
    if issues:
        raise InvalidInput(issues)
    _check_total(criteria, limits)
    query = replace(query, criteria=tuple(criteria), includes=tuple(includes))
    return ParsedSearch(query, tuple(unknown), tuple(used))


def _check_size(params: Sequence[tuple[str, str]], limits: SearchLimits) -> None:
    """Refuse a search with more parameters than the limit, before reading any of them."""
    if len(params) > limits.max_parameters:
        raise InvalidInput(
            Issue(
                f"A search may have at most {limits.max_parameters} parameters; "
                f"this one has {len(params)}.",
                code="too-costly",
            )
        )


def _check_total(criteria: list[Criterion], limits: SearchLimits) -> None:
    """Refuse a search whose values add up to more than the limit (each one grows the SQL)."""
    total = sum(len(criterion.values) for criterion in criteria)
    if total > limits.max_total_values:
        raise InvalidInput(
            Issue(
                f"A search may have at most {limits.max_total_values} values in all parameters "
                f"together; this one has {total}.",
                code="too-costly",
            )
        )


def unknown_issue(key: str, strict: bool = False) -> Issue:
    """The issue for an unsupported parameter: an error if strict, else a warning."""
    outcome = "the search was refused (Prefer: handling=strict)" if strict else "it was ignored"
    return Issue(
        f"The search parameter {_safe(key)} is not supported here; {outcome}.",
        code="not-supported",
        severity="error" if strict else "warning",
        expression=(_safe(key),),
    )


def _safe(key: str) -> str:
    return key if _SAFE_NAME.fullmatch(key) else "(unreadable parameter name)"


def _whole_number(raw: str, name: str, modifier: str) -> int:
    if modifier or not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise _BadValue(f"{name} must be a whole number of 0 or more.")
    value = int(raw)
    return min(value, MAX_COUNT) if name == "_count" else value


def _include(resource_type: str, raw: str, modifier: str, registry: SearchRegistry) -> Include:
    parts = raw.split(":")
    if (
        modifier
        or len(parts) not in (2, 3)
        or f"{parts[0]}:{parts[1]}" not in registry.includes(resource_type)
    ):
        supported = ", ".join(registry.includes(resource_type)) or "none"
        raise _BadValue(f"_include supports only: {supported}.")
    target = parts[2] if len(parts) == 3 else None
    parameter = registry.get(resource_type, parts[1])
    assert parameter is not None
    if target is not None and (
        target not in parameter.targets or target not in registry.resource_types
    ):
        raise _BadValue(f"_include {parts[0]}:{parts[1]} cannot target that type.")
    return Include(parts[1], target)


def _criterion(
    parameter: SearchParameter, modifier: str | None, raw: str, max_values: int
) -> Criterion:
    escaped = split_values(raw)
    if "" in escaped:
        raise _BadValue(f"{parameter.name} has an empty value; give a value or leave it out.")
    if len(escaped) > max_values:
        raise _BadValue(
            f"{parameter.name} has {len(escaped)} values; at most {max_values} are allowed."
        )
    if parameter.type == "token" and parameter.name != "_id":
        _no_modifier(parameter, modifier)
        return TokenCriterion(parameter.name, tuple(parse_token(v) for v in escaped))
    if modifier == "identifier" and "identifier" in parameter.modifiers:
        tokens = tuple(parse_token(v) for v in escaped)
        return ReferenceIdentifierCriterion(parameter.name, parameter.targets, tokens)
    values = [_unescape(v) for v in escaped]
    if parameter.type == "uri":
        _no_modifier(parameter, modifier)
        return TokenCriterion(parameter.name, tuple(Token(None, v) for v in values))
    if parameter.name == "_id":
        _no_modifier(parameter, modifier)
        if not all(FHIR_ID.fullmatch(v) for v in values):
            raise _BadValue("_id must be a FHIR id (letters, digits, '-' and '.', up to 64).")
        return IdCriterion(tuple(values))
    if parameter.name == "_lastUpdated":
        _no_modifier(parameter, modifier)
        return LastUpdatedCriterion(tuple(_date_bound(v, parameter.name) for v in values))
    return _BUILDERS[parameter.type](parameter, modifier, values)


def _string(parameter: SearchParameter, modifier: str | None, values: list[str]) -> Criterion:
    if modifier not in _STRING_MODIFIERS:
        raise _BadValue(f"{parameter.name} supports only the modifier :contains.")
    return StringCriterion(
        parameter.name, tuple(normalise(v.strip()) for v in values), _STRING_MODIFIERS[modifier]
    )


def _date(parameter: SearchParameter, modifier: str | None, values: list[str]) -> Criterion:
    _no_modifier(parameter, modifier)
    return DateCriterion(parameter.name, tuple(_date_bound(v, parameter.name) for v in values))


def _reference(parameter: SearchParameter, modifier: str | None, values: list[str]) -> Criterion:
    if modifier is not None and modifier not in parameter.targets:
        raise _BadValue(f"{parameter.name} does not support that modifier.")
    targets = (modifier,) if modifier else parameter.targets
    return ReferenceCriterion(parameter.name, tuple(_target(parameter, targets, v) for v in values))


def _target(
    parameter: SearchParameter, targets: tuple[str, ...], value: str
) -> tuple[str | None, str]:
    if FHIR_ID.fullmatch(value):
        return (targets[0] if len(targets) == 1 else None), value
    parsed = parse_reference(value)
    if parsed is None:
        raise _BadValue(f"{parameter.name} must be an id, Type/id or an absolute reference.")
    return parsed


def _date_bound(value: str, name: str) -> DateBound:
    prefix = value[:2] if value[:2].isalpha() else "eq"
    text = value[2:] if value[:2].isalpha() else value
    if prefix not in DATE_PREFIXES:
        raise _BadValue(f"{name} supports the prefixes {', '.join(DATE_PREFIXES)} only.")
    try:
        low, high = date_range(text)
    except ValueError:
        message = f"{name} must be a date such as 2024, 2024-05, 2024-05-17 or a dateTime."
        raise _BadValue(message) from None
    return DateBound(prefix, low, high)


def _no_modifier(parameter: SearchParameter, modifier: str | None) -> None:
    if modifier is not None:
        raise _BadValue(f"{parameter.name} does not support modifiers.")


def parse_token(value: str) -> Token:
    """`system|code`, `|code`, `system|` or `code`."""
    parts = _split(value, "|")
    if len(parts) == 1:
        return Token(None, _unescape(parts[0]))
    if len(parts) != 2 or (not parts[0] and not parts[1]):
        raise _BadValue("A token must be code, system|code, |code or system|.")
    return Token(_unescape(parts[0]), _unescape(parts[1]) or None)


def split_values(raw: str) -> list[str]:
    """Comma-separated alternatives (OR), honouring `\\,` escapes; empty ones kept as ""."""
    return _split(raw, ",")


def _split(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


_BUILDERS: dict[str, Callable[[SearchParameter, str | None, list[str]], Criterion]] = {
    "string": _string,
    "date": _date,
    "reference": _reference,
}
