"""The per-key rate limit through the local stack (``make run``) on its virtual clock: a
virtual second lasts until the clock is moved, so the 51st call in it is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ADMIN, Stack, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-rate")]


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("rate"), extra_env={"SENDRAIL_API_RATE_LIMIT": "50"}
    )
    yield running
    stop_stack(running)


def test_given_the_stack_then_a_key_over_50_per_second_gets_429_until_the_clock_moves(
    limited: Stack,
) -> None:
    api = limited.http
    replies = [api.get("/api/me") for _ in range(60)]
    assert [status for status, _, _ in replies] == [200] * 50 + [429] * 10
    _, body, headers = replies[-1]
    assert headers["Retry-After"] == "1" and body["error"]["code"] == "rate_limited"
    # Public routes and other keys are not held back
    assert api.get("/health", token="")[0] == 200
    assert api.get("/api/me", token=ADMIN)[0] == 200
    api.advance(1)
    assert api.get("/api/me")[0] == 200


def test_given_a_tenant_that_raises_its_limit_then_a_long_run_passes(limited: Stack) -> None:
    # What a fuzzing run does: raise its own tenant's limit first
    api = limited.http
    api.advance(1)
    status, body, _ = api.call("PUT", "/api/settings/api", {"api_rate_limit": 10_000})
    assert status == 200 and body["effective_api_rate_limit"] == 10_000, body
    assert all(api.get("/api/me")[0] == 200 for _ in range(120))
