"""SearchQuery criteria as SQL conditions over the resource and index tables.

Each criterion becomes `resource.id IN (SELECT resource_id FROM <index> WHERE ...)`, so the
database starts from the selective index rows rather than probing the index once per resource.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from adapter.search.query import (
    Criterion,
    DateBound,
    DateCriterion,
    IdCriterion,
    LastUpdatedCriterion,
    ReferenceCriterion,
    ReferenceIdentifierCriterion,
    StringCriterion,
    Token,
    TokenCriterion,
)
from adapter.store.tables import (
    resource,
    search_date,
    search_reference,
    search_string,
    search_token,
)

R = resource.c


def condition(criterion: Criterion, resource_type: str) -> ColumnElement[bool]:
    """The WHERE condition (on the `resource` table) for one criterion."""
    return _BUILDERS[type(criterion)](criterion, resource_type)


def _ids_in(
    table: sa.Table, resource_type: str, param: str, *conditions: ColumnElement[bool]
) -> ColumnElement[bool]:
    """The resource has an index row for the parameter that meets the conditions."""
    rows = sa.select(table.c.resource_id).where(
        table.c.resource_type == resource_type, table.c.param == param, *conditions
    )
    return R.id.in_(rows)


def _token_match(table: sa.FromClause, token: Token) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if token.code is not None:
        parts.append(table.c.code == token.code)
    if token.system == "":
        parts.append(table.c.system.is_(None))
    elif token.system is not None:
        parts.append(table.c.system == token.system)
    return sa.and_(*parts)


def _token(criterion: TokenCriterion, resource_type: str) -> ColumnElement[bool]:
    matches = [_token_match(search_token, v) for v in criterion.values]
    return _ids_in(search_token, resource_type, criterion.param, sa.or_(*matches))


def _string(criterion: StringCriterion, resource_type: str) -> ColumnElement[bool]:
    value = search_string.c.value
    if criterion.match == "contains":
        matches = [value.contains(v, autoescape=True) for v in criterion.values]
    else:
        matches = [value.startswith(v, autoescape=True) for v in criterion.values]
    return _ids_in(search_string, resource_type, criterion.param, sa.or_(*matches))


def _range_match(low: sa.Column, high: sa.Column, bound: DateBound) -> ColumnElement[bool]:
    """FHIR prefix semantics between a stored range [low, high) and the searched one."""
    within = sa.and_(low >= bound.low, high <= bound.high)
    return {
        "eq": within,
        "ne": sa.not_(within),
        "gt": high > bound.high,
        "lt": low < bound.low,
        "ge": sa.or_(high > bound.high, within),
        "le": sa.or_(low < bound.low, within),
    }[bound.prefix]


def _date(criterion: DateCriterion, resource_type: str) -> ColumnElement[bool]:
    table = search_date
    matches = [_range_match(table.c.low, table.c.high, v) for v in criterion.values]
    return _ids_in(table, resource_type, criterion.param, sa.or_(*matches))


def _last_updated(criterion: LastUpdatedCriterion, _resource_type: str) -> ColumnElement[bool]:
    """lastUpdated is an instant: a point, in the range when low <= t < high."""
    t = R.last_updated
    matches = []
    for bound in criterion.values:
        within = sa.and_(t >= bound.low, t < bound.high)
        matches.append(
            {
                "eq": within,
                "ne": sa.not_(within),
                "gt": t >= bound.high,
                "lt": t < bound.low,
                "ge": t >= bound.low,
                "le": t < bound.high,
            }[bound.prefix]
        )
    return sa.or_(*matches)


def _reference(criterion: ReferenceCriterion, resource_type: str) -> ColumnElement[bool]:
    table = search_reference
    matches = [
        sa.and_(
            table.c.target_id == target_id,
            *([table.c.target_type == target_type] if target_type else []),
        )
        for target_type, target_id in criterion.values
    ]
    return _ids_in(table, resource_type, criterion.param, sa.or_(*matches))


def _reference_identifier(
    criterion: ReferenceIdentifierCriterion, resource_type: str
) -> ColumnElement[bool]:
    """The reference carries the identifier, or the resource it points to has it.

    One IN over a UNION, not two OR'ed INs: with the OR the planners walked every resource of
    the type testing both per row; with the UNION they start from the few matching index rows
    (search_token by code, then search_reference by target) and probe `resource` by its key.
    """
    logical = sa.select(search_token.c.resource_id).where(
        search_token.c.resource_type == resource_type,
        search_token.c.param == f"{criterion.param}:identifier",
        sa.or_(*(_token_match(search_token, v) for v in criterion.values)),
    )
    target = search_token.alias("target_token")
    ref = search_reference.c
    resolved = (
        sa.select(ref.resource_id)
        .select_from(target)
        .join(
            search_reference,
            sa.and_(
                ref.target_type == target.c.resource_type, ref.target_id == target.c.resource_id
            ),
        )
        .where(
            target.c.resource_type.in_(criterion.target_types),
            target.c.param == "identifier",
            sa.or_(*(_token_match(target, v) for v in criterion.values)),
            ref.resource_type == resource_type,
            ref.param == criterion.param,
        )
    )
    return R.id.in_(sa.union(logical, resolved))


def _id(criterion: IdCriterion, _resource_type: str) -> ColumnElement[bool]:
    return R.id.in_(criterion.values)


_BUILDERS: dict[type, Callable[..., ColumnElement[bool]]] = {
    TokenCriterion: _token,
    StringCriterion: _string,
    DateCriterion: _date,
    LastUpdatedCriterion: _last_updated,
    ReferenceCriterion: _reference,
    ReferenceIdentifierCriterion: _reference_identifier,
    IdCriterion: _id,
}


@functools.lru_cache(maxsize=64)
def identifier_lookup(resource_type: str, with_system: tuple[bool, ...]) -> sa.CompoundSelect:
    """(resource_id, rank) of the resources with each identifier: one statement per shape, kept."""
    T = search_token.c
    return sa.union_all(
        *(
            sa.select(T.resource_id, sa.literal(rank).label("rank")).where(
                T.resource_type == resource_type,
                T.param == "identifier",
                T.code == sa.bindparam(f"code{rank}"),
                *([T.system == sa.bindparam(f"system{rank}")] if has_system else []),
            )
            for rank, has_system in enumerate(with_system)
        )
    )
