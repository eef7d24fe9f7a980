"""The bounds of a recipient's data: depth is measured without recursion, and clipping
always brings stored data within the bound, keeping what lies inside it."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sendrail.domain import recipient_data
from sendrail.domain.recipient_data import MAX_DEPTH, clip, depth, problem

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=40,
)


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


def test_given_nesting_then_depth_counts_levels_of_objects_and_arrays():
    assert depth(1) == 0 and depth({}) == 1 and depth({"a": [1]}) == 2
    assert depth(nested(5000)) == 5000  # no recursion limit


def test_given_data_at_and_over_the_bound_then_only_over_is_a_problem():
    assert problem(nested(MAX_DEPTH)) is None
    assert problem(nested(MAX_DEPTH + 1)) == f"data is nested deeper than {MAX_DEPTH} levels"
    assert "larger than" in str(problem({"x": "y" * recipient_data.MAX_BYTES}))


@given(st.dictionaries(st.text(max_size=3), json_values, max_size=4))
def test_given_any_data_then_clipping_is_within_the_bound_and_keeps_shallow_data(data):
    clipped = clip(data)
    assert depth(clipped) <= MAX_DEPTH
    if depth(data) <= MAX_DEPTH:
        assert clipped == data


def test_given_300_levels_then_clip_keeps_the_top_and_shows_the_rest_as_text():
    clipped = clip(nested(300))
    assert depth(clipped) == MAX_DEPTH
    inner = clipped
    for _ in range(MAX_DEPTH - 1):
        inner = inner["k"]
    assert isinstance(inner["k"], str) and inner["k"].startswith('{"k":')
