"""Reading request bodies safely: media type, size, JSON syntax, repeated keys and nesting depth."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import orjson
from flask import Response, request

from adapter.api.context import current_settings
from adapter.errors import InvalidInput, Issue, UnsupportedMediaType
from adapter.json_input import JsonInputError, load_json

JSON_TYPES = ("application/json",)
FHIR_JSON_TYPES = ("application/fhir+json", "application/json+fhir", "application/json")

View = TypeVar("View", bound=Callable[..., object])


def public(view: View) -> View:
    """Mark a view as needing no bearer token (create_app's auth check skips it)."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def read_json_body(accepted_types: tuple[str, ...] = JSON_TYPES) -> object:
    """The request body as parsed JSON, or a clear 4xx error."""
    media_type = request.mimetype
    if media_type not in accepted_types:
        raise UnsupportedMediaType(
            f"The body must be sent as {' or '.join(accepted_types)}; "
            f"the Content-Type was {media_type or 'missing'}."
        )
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise InvalidInput("The request body is empty; a JSON object was expected.")
    try:
        return load_json(raw, current_settings().max_json_depth)
    except JsonInputError as exc:
        raise InvalidInput(Issue(f"The body {exc}.", code=exc.code)) from None


def version_etag(version: int) -> str:
    """The weak ETag of a record version."""
    return f'W/"{version}"'


def if_match_version() -> int | None:
    """The version an If-Match header asks for (W/"2", "2" or 2), or None without one."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not _is_whole(value, max_digits=18):
        raise InvalidInput(
            Issue('If-Match must be a version ETag such as W/"2".', expression=("If-Match",))
        )
    return int(value)


def json_response(
    document: object, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A native API JSON response."""
    return Response(
        orjson.dumps(document),
        status=status,
        headers=headers,
        content_type="application/json; charset=utf-8",
    )


DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def unknown_parameters(known: tuple[str, ...]) -> list[Issue]:
    """An issue naming each query parameter not in `known` (and saying which are)."""
    return [
        Issue(f"Unknown query parameter; use one of {', '.join(known)}.", expression=(name,))
        for name in request.args
        if name not in known
    ]


def page_parameters(issues: list[Issue]) -> tuple[int, int]:
    """`limit` (1-100, default 20) and `offset` from the query; a bad one is added to `issues`."""
    limit = whole_number("limit", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, issues)
    offset = whole_number("offset", 0, 0, 10**9, issues)
    return limit, offset


def whole_number(name: str, default: int, low: int, high: int, issues: list[Issue]) -> int:
    """A whole-number query parameter within [low, high]; else `default`, and an issue naming it."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if _is_whole(raw, max_digits=len(str(high))) and low <= int(raw) <= high:
        return int(raw)
    issues.append(Issue(f"{name} must be a whole number from {low} to {high}.", expression=(name,)))
    return default


def _is_whole(raw: str, max_digits: int) -> bool:
    """ASCII digits only, and few: "²".isdigit() is True but int("²") fails, as do huge strings."""
    return raw.isascii() and raw.isdigit() and len(raw) <= max_digits
