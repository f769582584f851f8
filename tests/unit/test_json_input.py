"""The shared JSON loader: a repeated object key is refused, however it is written."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapter.json_input import JsonInputError, load_json


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"a": 1, "\\u0061": 2}',  # the same key, escaped differently
        '{"outer": [{"b": 1, "c": {"b": 2, "b": 3}}]}',
        '{"a" :1, "a"\n:2}',
        '{"": 1, "": 2}',
        '{"x\\\\": 1, "x\\\\": 2}',  # a key ending in a backslash
        '{"note": "say \\"a\\": 1", "a": 1, "a": 2}',
    ],
)
def test_a_repeated_key_is_refused(text: str) -> None:
    with pytest.raises(JsonInputError, match="each key may appear only once"):
        load_json(text)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": {"a": 1}}',
        '[{"a": 1}, {"a": 1}]',
        '{"note": "a \\": b", "b": "\\\\"}',
        '{"url": "http://x:8080/a", "k" : "v \\" :"}',
        '{"x\\\\": 1, "y": "\\\\\\":"}',
        "{}",
        '"just a string"',
    ],
)
def test_distinct_keys_are_accepted(text: str) -> None:
    assert load_json(text) == json.loads(text)


def test_the_repeated_key_is_named_only_when_it_is_a_plain_name() -> None:
    with pytest.raises(JsonInputError, match="repeats 'status'"):
        load_json('{"status": "active", "status": "revoked"}')
    with pytest.raises(JsonInputError, match="repeats a key") as error:
        load_json('{"9990012342 Smith": 1, "9990012342 Smith": 2}')
    assert "9990012342" not in str(error.value)


def test_syntax_and_depth_are_reported() -> None:
    with pytest.raises(JsonInputError, match="not valid JSON"):
        load_json("{")
    with pytest.raises(JsonInputError, match="not valid JSON"):
        load_json('{"a": "\ud800"}')  # a lone surrogate: no UTF-8 for it
    with pytest.raises(JsonInputError, match="more than 3 levels") as error:
        load_json("[[[[1]]]]", max_depth=3)
    assert error.value.code == "too-costly"


_KEYS = st.text(alphabet='ab"\\: \u00e9\n', max_size=4)
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(alphabet='ab"\\: ', max_size=5)
)
_SEPARATORS = st.sampled_from([(",", ":"), (", ", ": "), (" , ", " : "), ("\n,", "\t:")])


def _objects(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.tuples(_KEYS, children), max_size=4).map(lambda pairs: ("obj", pairs))


_VALUES = st.recursive(_SCALARS, lambda c: st.lists(c, max_size=3) | _objects(c), max_leaves=12)


def _render(value: object, separators: tuple[str, str], ascii_only: bool) -> str:
    item, colon = separators
    if isinstance(value, tuple):
        members = (
            json.dumps(k, ensure_ascii=ascii_only) + colon + _render(v, separators, ascii_only)
            for k, v in value[1]
        )
        return "{" + item.join(members) + "}"
    if isinstance(value, list):
        return "[" + item.join(_render(v, separators, ascii_only) for v in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


def _repeats(value: object) -> bool:
    if isinstance(value, tuple):
        keys = [k for k, _ in value[1]]
        return len(set(keys)) < len(keys) or any(_repeats(v) for _, v in value[1])
    if isinstance(value, list):
        return any(_repeats(v) for v in value)
    return False


@settings(max_examples=400)
@given(_VALUES, _SEPARATORS, st.booleans())
@example(("obj", [(":", None)]), (",", ":"), False)  # a key starting with a colon was miscounted
@example(("obj", [('a"', 1), ('a"', 2)]), (", ", ": "), True)
@example(("obj", [("\\", 1), ("\\", 2)]), (" , ", " : "), False)
def test_repeats_are_found_exactly(value: object, separators: tuple, ascii_only: bool) -> None:
    text = _render(value, separators, ascii_only)
    if _repeats(value):
        with pytest.raises(JsonInputError):
            load_json(text)
    else:
        assert load_json(text) == json.loads(text)


def test_deep_nesting_with_a_repeat_is_refused_not_a_crash() -> None:
    text = '{"a": ' * 5000 + "1" + "}" * 5000
    text = text[:-1] + ', "a": 2}'
    with pytest.raises(JsonInputError):
        load_json(text)
