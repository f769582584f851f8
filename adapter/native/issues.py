"""Marshmallow's nested error messages as `Issue`s whose expression is the native field path."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Issue

_SCHEMA = "_schema"


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if key == _SCHEMA:
        return path
    return f"{path}.{key}" if path else str(key)


def _walk(messages: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _walk(value, _join(path, key))
    elif isinstance(messages, list | tuple):
        for item in messages:
            yield from _walk(item, path)
    else:
        yield path, str(messages)


def issues_from_messages(messages: object) -> list[Issue]:
    """One Issue per message; `code` is `required` for missing fields, else `invalid`."""
    issues = []
    for path, text in _walk(messages, ""):
        code = "required" if text == "This field is required." else "invalid"
        expression = (path,) if path else ()
        issues.append(Issue(text, code=code, expression=expression))
    return issues
