"""JSON from outside (request bodies, files): orjson, but a repeated object key is refused.

orjson keeps the last of two equal keys without a word, so a body could say one thing to us and
another to a reader that keeps the first. json's object_pairs_hook finds repeats at several times
orjson's cost; instead the keys written in the text are counted and compared with the keys orjson
kept (counted the same way in its own compact output). Counting is a few byte scans in the usual
case. Only when the counts differ is the slow parser run, to name the repeated key.
"""

from __future__ import annotations

import json
import re

import orjson

# Every string, and the colon after it when it is a key (valid JSON has no quote outside strings).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"([ \t\r\n]*:)?', re.DOTALL)
# Bytes before a quote that make `":` ambiguous (an opening quote, an escaped quote), or before a
# colon that make a key end other than `":` (whitespace), all mapped to one marker byte.
_MARK = bytes.maketrans(b"{[,\\ \t\n\r", b"\x01" * 8)
_AMBIGUOUS = (b'\x01":', b':":', b"\x01:")
_SAFE_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_\-.$]{0,63}")


class JsonInputError(ValueError):
    """Why JSON was refused, as a predicate ("is not valid JSON ..."); it never quotes values."""

    def __init__(self, message: str, code: str = "structure") -> None:
        super().__init__(message)
        self.code = code


def load_json(raw: bytes | bytearray | memoryview | str, max_depth: int | None = None) -> object:
    """The parsed document, or JsonInputError for bad syntax, a repeated key or too deep nesting."""
    # surrogatepass: a lone surrogate becomes bytes that orjson refuses as invalid UTF-8.
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in exc.msg or "recursion" in exc.msg.lower():
            raise _too_deep(max_depth) from None
        where = f" (line {exc.lineno}, column {exc.colno})" if exc.lineno else ""
        raise JsonInputError(f"is not valid JSON{where}") from None
    if not isinstance(document, dict | list):
        return document
    if max_depth is None:  # orjson's own compact output, counted the same way: the keys kept
        kept = _key_count(orjson.dumps(document))
    else:  # the depth walk is needed anyway, and counts the keys kept as it goes
        depth, kept = _shape(document)
        if depth > max_depth:
            raise _too_deep(max_depth)
    if _key_count(data) != kept:
        raise _repeated_key(data)
    return document


def json_depth(document: object) -> int:
    """How deeply arrays and objects nest in a parsed document."""
    return _shape(document)[0]


def _shape(document: object) -> tuple[int, int]:
    """Nesting depth and number of object members, level by level (no recursion)."""
    depth = members = 0
    level = [document]
    while level:
        containers = [node for node in level if isinstance(node, dict | list)]
        if not containers:
            break
        depth += 1
        members += sum(len(node) for node in containers if isinstance(node, dict))
        level = [
            child
            for node in containers
            for child in (node.values() if isinstance(node, dict) else node)
        ]
    return depth, members


def _key_count(data: bytes) -> int:
    """How many object keys a valid JSON text writes."""
    marked = data.translate(_MARK)
    if not any(pattern in marked for pattern in _AMBIGUOUS):
        return data.count(b'":')  # every `":` ends a key and every key ends so: memchr speed
    colons = _STRING.findall(data)
    return len(colons) - colons.count(b"")


def _repeated_key(data: bytes) -> JsonInputError:
    def refuse_repeats(pairs: list[tuple[str, object]]) -> dict:
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                named = f"'{key}'" if _SAFE_KEY.fullmatch(key) else "a key"
                raise JsonInputError(
                    f"repeats {named} within one JSON object; each key may appear only once"
                )
            seen.add(key)
        return dict(pairs)

    try:
        json.loads(data, object_pairs_hook=refuse_repeats)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, JsonInputError):
            return exc
    # The counts disagreed yet json found no repeat: refuse rather than guess what was meant.
    return JsonInputError("could not be read unambiguously as JSON")


def _too_deep(max_depth: int | None) -> JsonInputError:
    limit = f"more than {max_depth} levels" if max_depth is not None else "too"
    return JsonInputError(f"nests objects and arrays {limit} deep", code="too-costly")
