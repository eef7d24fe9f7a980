"""Logins for unknown addresses verify against a stored dummy hash (so their timing does
not reveal who exists); the dummy is a constant rather than a hash computed at import
(which cost every cold start of enqueue one Argon2 hash)."""

from __future__ import annotations

from argon2 import extract_parameters
from sendrail.services import users


def test_given_the_dummy_hash_then_it_costs_what_a_stored_password_costs():
    # The same algorithm, memory, time and parallelism as a hash made today.
    made_now = users._hasher().hash("any password at all")
    assert extract_parameters(users._DUMMY) == extract_parameters(made_now)


def test_given_an_unknown_user_then_no_password_matches():
    assert users._matches(None, "not a real password, only for constant-time misses") is False
    assert users._matches(None, "") is False
