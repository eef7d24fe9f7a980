"""List cursors: what a list handed out comes back as the same key; anything else, in any
shape, is InvalidCursor (400 invalid_cursor), never a start key DynamoDB would choke on."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sendrail.errors import InvalidCursor
from sendrail.storage.codec import decode_cursor, encode_cursor, resume_key

KEY = {"pk": {"S": "T#t1"}, "sk": {"S": "CAMP#c1"}}


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_given_a_cursor_we_made_then_it_resumes_the_same_query():
    after = decode_cursor(encode_cursor(KEY))
    assert resume_key(after, ("pk", "sk"), {"pk": "T#t1"}, {"sk": "CAMP#"}) == KEY
    assert resume_key(None, ("pk", "sk"), {"pk": "T#t1"}) is None


@pytest.mark.parametrize(
    ("names", "equal", "prefix"),
    [
        (("pk", "sk"), {"pk": "T#t2"}, None),  # another tenant's partition
        (("pk", "sk"), {"pk": "T#t1"}, {"sk": "MBX#"}),  # another list's items
        (("campaign_id", "email"), {"campaign_id": "c1"}, None),  # another table's key
        (("pk", "sk", "gsi1pk", "gsi1sk"), {"gsi1pk": "TENANTS"}, None),
    ],
)
def test_given_a_cursor_from_another_query_then_invalid(names, equal, prefix):
    with pytest.raises(InvalidCursor):
        resume_key(decode_cursor(encode_cursor(KEY)), names, equal, prefix)


@given(st.recursive(st.none() | st.integers() | st.text(max_size=4), st.lists, max_leaves=6))
def test_given_any_json_that_is_not_a_key_then_decode_refuses_it(value):
    with pytest.raises(InvalidCursor):
        decode_cursor(b64(value))


@given(st.text(max_size=40))
def test_given_any_text_then_decode_answers_a_key_or_invalid(text):
    try:
        after = decode_cursor(text)
    except InvalidCursor:
        return
    assert after is None or all(set(v) == {"S"} for v in after.values())
