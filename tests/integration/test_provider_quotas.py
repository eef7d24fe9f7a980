"""Provider ceilings by default: shown on the mailbox and in /api/queue/servers, refused
above the ceiling, and honoured by dispatch."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sendrail.domain.limits import LimitState
from sendrail.providers import ses
from sendrail.services.capacity import mailbox_subject, ses_account_subject

from tests.conftest import Api
from tests.integration.test_oauth_mailboxes import campaign, connect, fakes  # noqa: F401


def _smtp(host: str, email: str, **extra: object) -> dict[str, object]:
    return {
        "provider": "smtp",
        "email": email,
        "smtp": {"host": host, "port": 587, "security": "starttls"},
        **extra,
    }


def test_given_a_limit_above_the_ceiling_then_422_names_the_ceiling(api: Api, tenant):
    reply = api.post(
        "/api/mailboxes", _smtp("smtp.office365.com", "ops@corp.example", daily_limit=20_000)
    )
    assert reply.status == 422, reply.raw
    detail = reply.body["error"]["details"][0]
    assert detail["field"] == "daily_limit" and detail["ceiling"] == 10_000
    assert detail["provider_ceiling"] == "exchange_online"
    assert "10000" in reply.body["error"]["message"]
    # At the ceiling is fine; raising it above by PATCH is refused too
    ok = api.post("/api/mailboxes", _smtp("smtp.gmail.com", "me@gmail.com", daily_limit=500))
    assert ok.status == 201, ok.raw
    patched = api.patch(f"/api/mailboxes/{ok.body['id']}", {"daily_limit": 501})
    assert patched.status == 422 and patched.body["error"]["details"][0]["ceiling"] == 500


def test_given_no_daily_limit_then_the_mailbox_and_queue_servers_show_the_ceiling(api: Api, tenant):
    created = api.post("/api/mailboxes", _smtp("smtp.gmail.com", "me@gmail.com"))
    assert created.status == 201, created.raw
    limits = created.body["effective_limits"]
    assert limits["daily_limit"] == 500 and limits["daily_source"] == "provider_default"
    assert limits["provider_ceiling"]["source"].startswith("https://support.google.com/")
    relay = api.post("/api/mailboxes", _smtp("mail.corp.example", "me@corp.example")).body
    assert relay["effective_limits"]["daily_limit"] is None
    servers = {s["id"]: s for s in api.get("/api/queue/servers").body["items"]}
    gmail = servers[created.body["id"]]
    assert gmail["daily_limit"] == 500 and gmail["daily_remaining"] == 500
    assert gmail["effective_limits"]["provider_ceiling"]["name"] == "gmail"
    assert servers[relay["id"]]["daily_limit"] == 0


def test_given_an_ses_mailbox_then_its_ceiling_is_the_accounts_quota(api: Api, tenant):
    ses._DAILY.clear()
    created = api.post("/api/mailboxes", {"provider": "ses", "email": "news@corp.example"})
    assert created.status == 201, created.raw
    ceiling = created.body["effective_limits"]["provider_ceiling"]
    assert ceiling["name"] == "ses" and ceiling["per_day"] > 0  # moto's sandbox quota
    over = api.patch(f"/api/mailboxes/{created.body['id']}", {"daily_limit": 10**7})
    assert over.status == 422 and over.body["error"]["details"][0]["provider_ceiling"] == "ses"
    ses._DAILY.clear()


def test_given_an_uncapped_gmail_mailbox_then_dispatch_stops_at_its_ceiling(
    api: Api,
    tenant,
    fakes,  # noqa: F811
    dispatch,
    deps,
):
    running, outbox = fakes
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        # Given a Gmail mailbox with no daily_limit that already sent 498 today
        mailbox = connect(api, running, "gmail", "me@gmail.com", daily_limit=0)
        now = datetime.now(UTC)
        seeded = LimitState(buckets={"day": ("2026-11-23", 498)})
        assert deps.limits.write(mailbox_subject(mailbox), seeded, 0, now) is not None
        # When a campaign of five is dispatched
        cid = campaign(api, [f"r{i}@x.example" for i in range(5)])
        dispatch()
        dispatch()
        # Then only two go out today (500 a day), the rest wait for tomorrow
        stats = api.get(f"/api/campaigns/{cid}/stats").body
        assert (stats["sent"], stats["queued"]) == (2, 3)
        server = next(s for s in api.get("/api/queue/servers").body["items"] if s["id"] == mailbox)
        assert (server["daily_limit"], server["daily_remaining"]) == (500, 0)
        clock.shift(86_400)
        dispatch()
        assert api.get(f"/api/campaigns/{cid}/stats").body["sent"] == 5
        assert len(outbox.items()) == 5


def _ses_mailboxes(api: Api, *emails: str) -> list[str]:
    import boto3

    boto3.client("sesv2", region_name="us-east-1").create_email_identity(
        EmailIdentity="corp.example"
    )
    ids = []
    for email in emails:
        created = api.post("/api/mailboxes", {"provider": "ses", "email": email})
        assert created.status == 201, created.raw
        ids.append(created.body["id"])
    return ids


def test_given_an_uncapped_ses_mailbox_then_dispatch_stops_at_the_accounts_daily_quota(
    api: Api, tenant, dispatch, deps
):
    ses._DAILY.clear()
    ses._RATES.clear()
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False):
        # Given an SES mailbox with no daily_limit (moto's account: 200 a day, 1 a second)
        # that already sent 198 today
        (mailbox,) = _ses_mailboxes(api, "news@corp.example")
        now = datetime.now(UTC)
        seeded = LimitState(buckets={"day": ("2026-11-23", 198)})
        assert deps.limits.write(mailbox_subject(mailbox), seeded, 0, now) is not None
        # When a campaign of five is dispatched
        cid = campaign(api, [f"r{i}@x.example" for i in range(5)])
        dispatch()
        dispatch()
        # Then only two go out: the account's quota is the mailbox's ceiling
        stats = api.get(f"/api/campaigns/{cid}/stats").body
        assert (stats["sent"], stats["queued"]) == (2, 3)
    ses._DAILY.clear()
    ses._RATES.clear()


def test_given_two_ses_mailboxes_then_together_they_stay_within_the_accounts_quota(
    api: Api, tenant, dispatch, deps
):
    ses._DAILY.clear()
    ses._RATES.clear()
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False):
        # Given two SES mailboxes of one account that has sent 197 of its 200 today
        first, second = _ses_mailboxes(api, "a@corp.example", "b@corp.example")
        now = datetime.now(UTC)
        seeded = LimitState(buckets={"day": ("2026-11-23", 197)})
        assert deps.limits.write(ses_account_subject("us-east-1"), seeded, 0, now) is not None
        # When a campaign of six is dispatched over both
        cid = campaign(api, [f"r{i}@x.example" for i in range(6)])
        dispatch()
        dispatch()
        # Then three go out in all, not three per mailbox
        stats = api.get(f"/api/campaigns/{cid}/stats").body
        assert (stats["sent"], stats["queued"]) == (3, 3)
        # And the account's quota and rate are the mailboxes' provider ceiling
        limits = api.get(f"/api/mailboxes/{first}").body["effective_limits"]
        assert limits["daily_limit"] == 200 and limits["daily_source"] == "provider_default"
        assert second != first
    ses._DAILY.clear()
    ses._RATES.clear()


def test_given_an_ses_mailbox_at_the_accounts_quota_then_feeding_feeds_nothing(
    api: Api, tenant, deps
):
    from sendrail.services import feeding
    from sendrail.services.provider_quotas import SesAccount

    with time_machine.travel("2026-11-23T08:00:00Z", tick=False):
        # Given an uncapped SES mailbox that sent all 200 of the account's quota today
        (mailbox,) = _ses_mailboxes(api, "news@corp.example")
        seeded = LimitState(buckets={"day": ("2026-11-23", 200)})
        assert deps.limits.write(mailbox_subject(mailbox), seeded, 0, datetime.now(UTC))
        cid = campaign(api, [f"r{i}@x.example" for i in range(5)])
        running = deps.campaigns.get(tenant["id"], cid)
        # Then, told the quota, feeding has no room; not told, it would feed as uncapped
        assert feeding.budget(deps, running, lambda: SesAccount(200, 1.0)) == 0
        assert feeding.budget(deps, running) == feeding.UNCAPPED_FEED


def test_given_an_ses_mailbox_then_effective_limits_show_the_rate_and_the_shared_quota(
    api: Api, tenant
):
    ses._DAILY.clear()
    ses._RATES.clear()
    # Given an SES mailbox with no limits of its own (moto's account: 200 a day, 1 a second)
    (mailbox,) = _ses_mailboxes(api, "news@corp.example")
    # Then the mailbox shows what dispatch enforces: the quota, the rate as a minute, and
    # the account's quota shared with every other SES mailbox
    limits = api.get(f"/api/mailboxes/{mailbox}").body["effective_limits"]
    assert limits["daily_limit"] == 200 and limits["per_minute"] == 60
    assert limits["provider_ceiling"]["per_minute"] == 60
    assert limits["shared"] == {
        "name": "ses_account",
        "per_day": 200,
        "per_minute": 60,
        "source": limits["provider_ceiling"]["source"],
    }
    # And /api/queue/servers shows the same
    server = next(s for s in api.get("/api/queue/servers").body["items"] if s["id"] == mailbox)
    assert server["effective_limits"] == limits
    ses._DAILY.clear()
    ses._RATES.clear()


def test_given_an_ses_campaign_then_its_estimate_follows_the_accounts_shared_quota(
    api: Api, tenant, deps
):
    ses._DAILY.clear()
    ses._RATES.clear()
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False):
        # Given two SES mailboxes of one account that has sent 197 of its 200 today
        _ses_mailboxes(api, "a@corp.example", "b@corp.example")
        seeded = LimitState(buckets={"day": ("2026-11-23", 197)})
        written = deps.limits.write(ses_account_subject("us-east-1"), seeded, 0, datetime.now(UTC))
        assert written is not None
        # When a campaign of eight is estimated
        cid = campaign(api, [f"r{i}@x.example" for i in range(8)])
        estimate = api.get(f"/api/campaigns/{cid}/estimate").body
        # Then three go today over both mailboxes together, five tomorrow
        assert estimate["per_day"] == [
            {"date": "2026-11-23", "count": 3},
            {"date": "2026-11-24", "count": 5},
        ]
    ses._DAILY.clear()
    ses._RATES.clear()


def test_given_100k_on_a_200_a_day_ses_account_then_the_estimate_is_500_days(
    api: Api, tenant, deps
):
    from sendrail.services import estimates
    from sendrail.services.provider_quotas import SesAccount

    with time_machine.travel("2026-11-23T00:00:00Z", tick=False):
        # Given an SES-only campaign with 100,000 recipients left on a 200-a-day account
        _ses_mailboxes(api, "news@corp.example")
        cid = campaign(api, ["r@x.example"])
        running = deps.campaigns.get(tenant["id"], cid)
        big = running.model_copy(
            update={"counts": running.counts.model_copy(update={"queued": 100_000})}
        )
        # When it is estimated under the account's quota
        found = estimates.estimate(deps, big, lambda: SesAccount(200, 1.0), "us-east-1")
        # Then it takes 500 days at 200 a day, not the uncapped figure of a moment
        assert found.completes_at is not None
        assert (found.completes_at.date() - datetime.now(UTC).date()).days == 499
        assert len(found.per_day) == 500 and {n for _, n in found.per_day} == {200}
        uncapped = estimates.estimate(deps, big)
        assert uncapped.completes_at == datetime.now(UTC)


def test_given_an_ses_account_at_its_quota_then_feeding_feeds_none_of_its_mailboxes(
    api: Api, tenant, deps
):
    from sendrail.services import feeding
    from sendrail.services.provider_quotas import SesAccount

    with time_machine.travel("2026-11-23T08:00:00Z", tick=False):
        # Given two SES mailboxes that sent nothing today, of an account that sent its 200
        _ses_mailboxes(api, "a@corp.example", "b@corp.example")
        seeded = LimitState(buckets={"day": ("2026-11-23", 200)})
        written = deps.limits.write(ses_account_subject("us-east-1"), seeded, 0, datetime.now(UTC))
        assert written is not None
        cid = campaign(api, [f"r{i}@x.example" for i in range(5)])
        running = deps.campaigns.get(tenant["id"], cid)
        # Then feeding has no room: the account's quota is shared, as dispatch applies it
        quota = lambda: SesAccount(200, 1.0)  # noqa: E731
        assert feeding.budget(deps, running, quota, "us-east-1") == 0
        # While another region's account (not at its quota) leaves both mailboxes room
        assert feeding.budget(deps, running, quota, "eu-west-1") > 0


def test_given_an_ses_account_near_its_quota_then_proofs_through_it_are_refused(
    api: Api, tenant, deps
):
    ses._DAILY.clear()
    ses._RATES.clear()
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False):
        # Given an SES account that has sent 199 of its 200 today, over its mailboxes
        (mailbox,) = _ses_mailboxes(api, "news@corp.example")
        now = datetime.now(UTC)
        seeded = LimitState(buckets={"day": ("2026-11-23", 199)})
        assert deps.limits.write(ses_account_subject("us-east-1"), seeded, 0, now) is not None
        cid = campaign(api, ["r0@x.example"])
        # When two proofs are asked through it
        reply = api.post(
            f"/api/campaigns/{cid}/test",
            {"to": ["me@acme.example", "you@acme.example"], "mailbox_id": mailbox},
        )
        # Then none is sent: the account's shared quota has room for one only
        assert reply.status == 409, reply.raw
        assert reply.body["error"]["code"] == "limit_reached"
        one = api.post(
            f"/api/campaigns/{cid}/test", {"to": ["me@acme.example"], "mailbox_id": mailbox}
        )
        assert one.status == 202, one.raw
    ses._DAILY.clear()
    ses._RATES.clear()
