"""Gmail and Outlook mailboxes through the real handlers, against the local fakes of
Google and Microsoft (real HTTP servers on 127.0.0.1, Microsoft's over HTTPS), driven by
google-api-python-client, google-auth and msal: connect, send, refresh ahead of expiry,
revoked grants, rate limits, daily limits, 5xx and unknown outcomes."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import time_machine
from sendrail.clock import SystemClock
from sendrail_local.events import scheduled_event
from sendrail_local.lambdas import LocalContext
from sendrail_local.outbox import Outbox
from sendrail_local.provider_fakes import Fakes, Fault

from tests.conftest import Api, _reset_function_caches, smtp_mailbox

PROVIDERS = ["gmail", "outlook"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture
def fakes(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Fakes, Outbox]]:
    """Given the fakes of Google and Microsoft, and the functions pointed at them."""
    outbox = Outbox(SystemClock())
    running = Fakes(SystemClock(), outbox)
    running.start()
    for key, value in running.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SENDRAIL_HTTP_TIMEOUT", "1.5")
    _reset()
    yield running, outbox
    running.stop()
    _reset()


def _reset() -> None:
    _reset_function_caches()


def refresh_tokens() -> dict[str, int]:
    from functions.token_refresh.handler import handler

    result: dict[str, int] = handler(
        scheduled_event("sendrail-token-refresh", datetime.now(UTC)),
        LocalContext("token_refresh", 60),
    )
    return result


def connect(api: Api, fakes: Fakes, provider: str, email: str, **extra: Any) -> str:
    """Create the mailbox, give consent at the fake, and follow the redirect back."""
    body = {"provider": provider, "email": email, "daily_limit": 500, **extra}
    created = api.post("/api/mailboxes", body)
    assert created.status == 201, created.raw
    assert created.body["status"] == "pending_auth"
    link = created.body["authorize_url"]
    opener = urllib.request.build_opener(
        _NoRedirect, urllib.request.HTTPSHandler(context=_trusting(fakes))
    )
    try:
        opener.open(link, timeout=10)
        raise AssertionError("the authorization endpoint should redirect")
    except urllib.error.HTTPError as redirect:
        location = redirect.headers["Location"]
    back = urlsplit(location)
    assert back.path == "/oauth/callback"
    done = Api().get(f"{back.path}?{back.query}", token="")
    assert done.status == 200, done.raw
    mailbox = api.get(f"/api/mailboxes/{created.body['id']}").body
    assert mailbox["status"] == "active" and mailbox["has_credentials"]
    return str(created.body["id"])


def _trusting(fakes: Fakes) -> Any:
    import ssl

    return ssl.create_default_context(cafile=fakes.ca_file)


def campaign(api: Api, emails: list[str], **extra: Any) -> str:
    cid = api.post("/api/campaigns", {"name": "c", "subject": "Hi", "html": "<p>Hi</p>", **extra})
    assert cid.status == 201, cid.raw
    campaign_id = str(cid.body["id"])
    rows = [{"email": e} for e in emails]
    assert api.post(f"/api/campaigns/{campaign_id}/recipients", {"recipients": rows}).status == 200
    assert api.post(f"/api/campaigns/{campaign_id}/start").status == 202
    return campaign_id


@pytest.mark.parametrize("provider", PROVIDERS)
def test_given_a_connected_mailbox_then_it_sends_and_its_token_is_refreshed_ahead_of_expiry(
    api, tenant, fakes, dispatch, provider
):
    running, outbox = fakes
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        mailbox = connect(api, running, provider, f"sales@{provider}.example")
        expiries = []
        for round_ in range(5):  # 5 x 52 minutes: 60-minute tokens, a 10-minute margin
            cid = campaign(api, [f"r{round_}-{i}@x.example" for i in range(3)])
            dispatch()
            assert api.get(f"/api/campaigns/{cid}/stats").body["sent"] == 3
            clock.shift(52 * 60)
            refresh_tokens()
            expiries.append(api.get(f"/api/mailboxes/{mailbox}").body["token_expires_at"])
        assert running.expired_uses == 0  # no send ever used an expired token
        assert running.refreshes[provider] >= 4
        assert expiries == sorted(expiries) and len(set(expiries)) >= 4
        assert Counter(m.via for m in outbox.items()) == {provider: 15}
        assert len({m.to for m in outbox.items()}) == 15  # each recipient once


@pytest.mark.parametrize("provider", PROVIDERS)
def test_given_a_revoked_grant_then_the_mailbox_needs_reauth_and_another_one_delivers(
    api, tenant, fakes, sink, dispatch, provider
):
    running, outbox = fakes
    server, smtp_outbox = sink
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False):
        oauth_box = connect(api, running, provider, "owner@corp.example")
        api.post("/api/mailboxes", smtp_mailbox(server.port, daily_limit=500))
        assert running.revoke("owner@corp.example") >= 1
        cid = campaign(api, [f"p{i}@x.example" for i in range(6)])
        dispatch()
        dispatch()
        mailbox = api.get(f"/api/mailboxes/{oauth_box}").body
        assert mailbox["status"] == "needs_reauth"
        assert "reconnect" in mailbox["pause_reason"]
        assert api.get(f"/api/campaigns/{cid}/stats").body["sent"] == 6
        assert outbox.items() == [] and len(smtp_outbox.items()) == 6
        # A new consent link, and the mailbox is back.
        again = api.post(f"/api/mailboxes/{oauth_box}/connect")
        assert again.status == 200 and again.body["authorize_url"]


def test_given_a_copy_read_before_the_tokens_rotated_then_the_newest_tokens_are_used(
    api, tenant, fakes
):
    """Dispatch holds a mailbox read before the schedule refreshed it; its refresh
    token is spent (the Microsoft fake refuses a used one, as strictly rotating providers
    do). A refresh from that copy takes the stored, newer tokens instead of spending the
    old refresh token and mistaking the refusal for a revoked grant."""
    from sendrail.services import oauth

    from functions.token_refresh.wiring import wiring

    deps, providers = wiring.deps, wiring.providers

    running, _ = fakes
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        mailbox_id = connect(api, running, "outlook", "ops@outlook.example")
        stale, _ = deps().mailboxes.get(tenant["id"], mailbox_id)
        clock.shift(52 * 60)
        refresh_tokens()
        assert running.refreshes["outlook"] == 1

        fresh, token = oauth.refresh(deps(), providers(), stale)

        assert running.refreshes["outlook"] == 1  # nothing spent again
        assert fresh.token_version == stale.token_version + 1
        # Once those run out too, the refresh uses the newest refresh token.
        clock.shift(61 * 60)
        again, newer = oauth.refresh(deps(), providers(), stale)
        assert running.refreshes["outlook"] == 2
        assert again.token_version == fresh.token_version + 1 and newer != token
        assert api.get(f"/api/mailboxes/{mailbox_id}").body["status"] == "active"


@pytest.mark.parametrize("provider", PROVIDERS)
def test_given_rate_limits_errors_and_timeouts_then_nothing_is_sent_twice(
    api, tenant, fakes, dispatch, provider
):
    running, outbox = fakes
    if provider == "gmail":
        rate = Fault(
            429,
            {
                "error": {
                    "code": 429,
                    "message": "Rate Limit Exceeded",
                    "errors": [{"reason": "rateLimitExceeded"}],
                }
            },
            {"Retry-After": "30"},
        )
    else:
        rate = Fault(
            429,
            {"error": {"code": "ApplicationThrottled", "message": "slow"}},
            {"Retry-After": "30"},
        )
    server_error = Fault(503, {"error": {"code": 503, "message": "backend"}})
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        connect(api, running, provider, "bulk@corp.example")
        running.fail(provider, rate, rate, rate, server_error, Fault(hang=3.0), rate)
        cid = campaign(api, [f"s{i}@x.example" for i in range(8)])
        for _ in range(12):
            dispatch()
            if api.get(f"/api/campaigns/{cid}/stats").body["sent"] == 8:
                break
            clock.shift(120)
        stats = api.get(f"/api/campaigns/{cid}/stats").body
        assert stats["sent"] == 8 and stats["failed"] == 0
        delivered = Counter(m.to for m in outbox.items())
        assert len(delivered) == 8 and set(delivered.values()) == {1}  # zero duplicates


@pytest.mark.parametrize(
    ("provider", "fault"),
    [
        (
            "gmail",
            Fault(
                429,
                {
                    "error": {
                        "code": 429,
                        "message": "User-rate limit exceeded (Mail sending)",
                        "errors": [{"reason": "userRateLimitExceeded"}],
                    }
                },
            ),
        ),
        (
            "outlook",
            Fault(
                403,
                {
                    "error": {
                        "code": "ErrorExceededMessageLimit",
                        "message": "Sending limit exceeded",
                    }
                },
            ),
        ),
    ],
)
def test_given_a_daily_sending_limit_error_then_the_mailbox_pauses_until_its_reset(
    api, tenant, fakes, dispatch, provider, fault
):
    running, _ = fakes
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False):
        mailbox = connect(api, running, provider, "capped@corp.example")
        running.fail(provider, fault)
        cid = campaign(api, ["a@x.example", "b@x.example"])
        dispatch()
        paused = api.get(f"/api/mailboxes/{mailbox}").body
        assert paused["status"] == "paused"
        stats = api.get(f"/api/campaigns/{cid}/stats").body
        assert stats["sent"] == 0 and stats["queued"] == 2  # waiting, not failed


def test_given_connected_mailboxes_then_no_token_is_stored_in_plaintext(api, tenant, fakes, aws):
    running, _ = fakes
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False):
        for provider in PROVIDERS:
            connect(api, running, provider, f"secret@{provider}.example")
        tokens = list(running.state.grants) + list(running.state.access)
        assert len(tokens) >= 4
        table = aws.tables["main"]
        items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
        dumped = json.dumps(items)
        assert not [t for t in tokens if t in dumped]
        assert "refresh_token" not in dumped and "access_token" not in dumped


def test_given_a_forged_or_stale_state_then_the_callback_refuses_it(api, tenant, fakes):
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        created = api.post(
            "/api/mailboxes", {"provider": "gmail", "email": "late@corp.example"}
        ).body
        state = dict(
            part.split("=", 1) for part in urlsplit(created["authorize_url"]).query.split("&")
        )["state"]
        forged = Api().get(f"/oauth/callback?code=abc&state={state[:-3]}xyz", token="")
        assert forged.status == 400 and forged.body["error"]["code"] == "bad_request"
        clock.shift(16 * 60)
        stale = Api().get(f"/oauth/callback?code=abc&state={state}", token="")
        assert stale.status == 400 and "expired" in stale.body["error"]["message"]
        assert api.get(f"/api/mailboxes/{created['id']}").body["status"] == "pending_auth"


def _consent(fakes: Fakes, link: str) -> str:
    """The provider's redirect back (the callback's path and query)."""
    opener = urllib.request.build_opener(
        _NoRedirect, urllib.request.HTTPSHandler(context=_trusting(fakes))
    )
    try:
        opener.open(link, timeout=10)
    except urllib.error.HTTPError as redirect:
        back = urlsplit(redirect.headers["Location"])
        return f"{back.path}?{back.query}"
    raise AssertionError("the authorization endpoint should redirect")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_given_a_return_to_then_the_callback_sends_the_browser_back_to_the_dashboard(
    api, tenant, fakes, provider
):
    running, _ = fakes
    created = api.post("/api/mailboxes", {"provider": provider, "email": f"back@{provider}.ex"})
    assert created.status == 201, created.raw
    mid = created.body["id"]
    link = api.post(f"/api/mailboxes/{mid}/connect", {"return_to": "/app/#/mailboxes"})
    assert link.status == 200, link.raw
    callback = parse_qs(urlsplit(link.body["authorize_url"]).query)["redirect_uri"][0]
    done = Api().get(_consent(running, link.body["authorize_url"]), token="")
    assert done.status == 303, done.raw
    base = callback.removesuffix("/oauth/callback")  # this deployment's own origin
    assert done.headers["Location"] == base + "/app/#/mailboxes"
    assert api.get(f"/api/mailboxes/{mid}").body["status"] == "active"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/app/",
        "//evil.example/app/",
        "/app/../admin",
        "/app//evil.example",
        "/app/#/x\\y",
        "/apps/",
        "javascript:alert(1)",
        "/app/#/mailboxes\r\nSet-Cookie: x=1",
        "/oauth/callback",
        "",
    ],
)
def test_given_a_return_to_off_the_dashboard_then_connect_refuses_it(api, tenant, fakes, target):
    created = api.post("/api/mailboxes", {"provider": "gmail", "email": "open@corp.example"}).body
    refused = api.post(f"/api/mailboxes/{created['id']}/connect", {"return_to": target})
    assert refused.status in (400, 422), refused.raw
    assert "authorize_url" not in refused.body


def test_given_a_refused_consent_with_a_return_to_then_the_browser_goes_back_unconnected(
    api, tenant, fakes
):
    created = api.post("/api/mailboxes", {"provider": "gmail", "email": "no@corp.example"}).body
    link = api.post(f"/api/mailboxes/{created['id']}/connect", {"return_to": "/app/#/mailboxes"})
    state = parse_qs(urlsplit(link.body["authorize_url"]).query)["state"][0]
    refused = Api().get(f"/oauth/callback?error=access_denied&state={state}", token="")
    assert refused.status == 303 and refused.headers["Location"].endswith("/app/#/mailboxes")
    assert api.get(f"/api/mailboxes/{created['id']}").body["status"] == "pending_auth"
    forged = Api().get(f"/oauth/callback?error=access_denied&state={state[:-3]}xyz", token="")
    assert forged.status == 400 and "Location" not in forged.headers


def test_given_no_return_to_then_the_callback_still_shows_its_own_page(api, tenant, fakes):
    running, _ = fakes
    created = api.post("/api/mailboxes", {"provider": "gmail", "email": "page@corp.example"})
    done = Api().get(_consent(running, created.body["authorize_url"]), token="")
    assert done.status == 200 and "connected" in done.raw
    assert "Location" not in done.headers
