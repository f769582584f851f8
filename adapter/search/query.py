"""A parsed FHIR search: criteria, paging and includes; plain data the store turns into SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_COUNT = 20
MAX_COUNT = 100
DATE_PREFIXES = ("eq", "ne", "lt", "le", "gt", "ge")


@dataclass(frozen=True)
class SearchLimits:
    """How much one search may ask for, so that no search can outgrow the database's limits."""

    max_values: int = 100  # OR'ed values of one parameter (a,b,c)
    max_parameters: int = 30  # name=value pairs in one request
    max_total_values: int = 300  # values of all parameters together: what the SQL grows with


@dataclass(frozen=True)
class Token:
    """`system|code`; system None matches any system, "" matches no system; code None any code."""

    system: str | None
    code: str | None


@dataclass(frozen=True)
class TokenCriterion:
    """A token parameter (identifier, status, ...) matching any of its values."""

    param: str
    values: tuple[Token, ...]


@dataclass(frozen=True)
class StringCriterion:
    """A string parameter; values are normalised; match is start or contains."""

    param: str
    values: tuple[str, ...]
    match: str = "start"


@dataclass(frozen=True)
class DateBound:
    """One date value with its prefix, as a half-open range."""

    prefix: str
    low: datetime
    high: datetime


@dataclass(frozen=True)
class DateCriterion:
    """A date parameter matching any of its values."""

    param: str
    values: tuple[DateBound, ...]


@dataclass(frozen=True)
class ReferenceCriterion:
    """A reference parameter; each value is (type or None for any, id)."""

    param: str
    values: tuple[tuple[str | None, str], ...]


@dataclass(frozen=True)
class ReferenceIdentifierCriterion:
    """`param:identifier`: the referenced resource (of a target type) has one of the identifiers."""

    param: str
    target_types: tuple[str, ...]
    values: tuple[Token, ...]


@dataclass(frozen=True)
class IdCriterion:
    """`_id`: the resource's logical id is one of the values."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class LastUpdatedCriterion:
    """`_lastUpdated` against the version's own timestamp."""

    values: tuple[DateBound, ...]


Criterion = (
    TokenCriterion
    | StringCriterion
    | DateCriterion
    | ReferenceCriterion
    | ReferenceIdentifierCriterion
    | IdCriterion
    | LastUpdatedCriterion
)


@dataclass(frozen=True)
class Include:
    """`_include=Type:param[:Target]`: also return what the matches reference."""

    param: str
    target_type: str | None = None


@dataclass(frozen=True)
class SearchQuery:
    """Everything the store needs to run one search (all criteria must match)."""

    resource_type: str
    criteria: tuple[Criterion, ...] = ()
    count: int = DEFAULT_COUNT
    offset: int = 0
    includes: tuple[Include, ...] = field(default=())


@dataclass(frozen=True)
class SearchPage:
    """One page of results: the matches, how many match in all, and included resources."""

    resources: list[dict]
    total: int
    included: list[dict] = field(default_factory=list)
