"""The one JSON body parser: whatever Python's json refuses is a JSONDecodeError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sendrail.json_body import MAX_DEPTH, depth, parse


@pytest.mark.parametrize(
    "text",
    [
        "9" * 4301,
        "[" * 5000 + "]" * 5000,
        '{"a":' * 3000 + "1" + "}" * 3000,
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
        "{nope",
    ],
)
def test_given_json_python_cannot_hold_then_a_decode_error(text):
    with pytest.raises(json.JSONDecodeError):
        parse(text)


def test_given_json_at_the_depth_limit_then_it_parses():
    assert depth(parse("[" * MAX_DEPTH + "]" * MAX_DEPTH)) == MAX_DEPTH
    assert parse(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}


@given(
    st.recursive(st.none() | st.integers(), lambda c: st.lists(c) | st.dictionaries(st.text(), c))
)
def test_given_any_shallow_value_then_parse_round_trips(value):
    if depth(value) <= MAX_DEPTH:
        assert parse(json.dumps(value)) == value
