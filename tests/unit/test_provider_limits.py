"""Provider ceilings: which one a mailbox gets, and the limits in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sendrail.domain import provider_limits as pl
from sendrail.domain.limits import Period
from sendrail.domain.models import Mailbox, Provider, SmtpSettings
from sendrail.services.capacity import mailbox_rules

NOW = datetime(2026, 11, 23, 8, tzinfo=UTC)


def box(provider: Provider, email: str, host: str | None = None, **extra: Any) -> Mailbox:
    smtp = SmtpSettings(host=host, port=587) if host else None
    return Mailbox(
        id="mbx1",
        tenant_id="t",
        provider=provider,
        email=email,
        smtp=smtp,
        created_at=NOW,
        updated_at=NOW,
        **extra,
    )


def test_given_each_provider_then_its_published_ceiling_applies() -> None:
    assert pl.ceiling(box(Provider.GMAIL, "a@gmail.com")) is pl.GMAIL
    assert pl.ceiling(box(Provider.GMAIL, "a@corp.example")) is pl.GOOGLE_WORKSPACE
    assert pl.ceiling(box(Provider.OUTLOOK, "a@hotmail.com")) is pl.OUTLOOK_COM
    assert pl.ceiling(box(Provider.OUTLOOK, "a@corp.example")) is pl.EXCHANGE_ONLINE
    assert pl.ceiling(box(Provider.SMTP, "a@gmail.com", "smtp.gmail.com")) is pl.GMAIL
    assert pl.ceiling(box(Provider.SMTP, "a@x.example", "smtp.office365.com")) is (
        pl.EXCHANGE_ONLINE
    )
    assert pl.ceiling(box(Provider.SMTP, "a@x.example", "mail.x.example")) is None
    assert pl.ceiling(box(Provider.SES, "a@x.example")) is None  # quota unknown
    ses = pl.ceiling(box(Provider.SES, "a@x.example"), 50_000)
    assert ses is not None and ses.per_day == 50_000 and "aws.amazon.com" in ses.source
    assert pl.ceiling(box(Provider.SES, "a@x.example"), -1) is None  # SES: unlimited
    assert (pl.GMAIL.per_day, pl.GOOGLE_WORKSPACE.per_day, pl.OUTLOOK_COM.per_day) == (
        500,
        2000,
        300,
    )
    assert (pl.EXCHANGE_ONLINE.per_day, pl.EXCHANGE_ONLINE.per_minute) == (10_000, 30)


def test_given_no_daily_limit_then_the_ceiling_is_in_force_and_an_own_limit_wins_below_it() -> None:
    uncapped = pl.effective(box(Provider.GMAIL, "a@gmail.com"))
    assert (uncapped.daily_limit, uncapped.daily_source) == (500, "provider_default")
    own = pl.effective(box(Provider.GMAIL, "a@gmail.com", daily_limit=120))
    assert (own.daily_limit, own.daily_source) == (120, "mailbox")
    relay = pl.effective(box(Provider.SMTP, "a@x.example", "mail.x.example"))
    assert (relay.daily_limit, relay.daily_source) == (None, "none")
    # a limit stored before ceilings existed is held to the ceiling anyway
    assert pl.effective(box(Provider.GMAIL, "a@gmail.com", daily_limit=900)).daily_limit == 500


def test_given_a_limit_above_the_ceiling_then_the_reason_names_it() -> None:
    reason = pl.over_ceiling(20_000, pl.EXCHANGE_ONLINE)
    assert reason is not None and "exchange_online" in reason and "10000" in reason
    assert pl.over_ceiling(10_000, pl.EXCHANGE_ONLINE) is None
    assert pl.over_ceiling(0, pl.GMAIL) is None


def test_given_exchange_then_dispatch_rules_hold_30_a_minute_and_the_daily_ceiling() -> None:
    rules = mailbox_rules(box(Provider.OUTLOOK, "a@corp.example"), NOW)
    caps = {r.period: r.max for r in rules.fixed}
    assert caps[Period.DAY] == 10_000 and caps[Period.MINUTE] == 30


def test_given_a_warmup_then_the_ramp_stays_under_the_ceiling() -> None:
    ramp = {"start_per_day": 100, "increase_percent": 50, "max_per_day": 5000}
    mailbox = box(Provider.GMAIL, "a@gmail.com", warmup=ramp)
    assert mailbox_rules(mailbox, NOW).day_rule().max == 100  # type: ignore[union-attr]
    later = mailbox_rules(mailbox, NOW + timedelta(days=30)).day_rule()
    assert later is not None and later.max == 500


def test_given_an_ses_account_then_dispatch_rules_and_effective_limits_agree():
    from sendrail.domain.limits import Period
    from sendrail.domain.provider_limits import SesAccount, effective
    from sendrail.services.capacity import shared_subjects

    mailbox = box(Provider.SES, "news@corp.example")
    ses = SesAccount(200, 14.0)
    found = effective(mailbox, ses)
    # The mailbox: the quota a day and the rate as a minute; the account: both, shared
    assert (found.daily_limit, found.per_minute) == (200, 840)
    assert found.shared is not None and (found.shared.per_day, found.shared.per_minute) == (
        200,
        840,
    )
    rules = mailbox_rules(mailbox, NOW, ses)
    assert {(r.period, r.max) for r in rules.fixed} >= {(Period.MINUTE, 840)}
    ((subject, account),) = shared_subjects(found, "eu-west-1")
    assert subject == "ses#eu-west-1"
    assert {(r.period, r.max) for r in account.fixed} == {(Period.DAY, 200), (Period.MINUTE, 840)}
    # An unlimited account (-1) still shares its rate; another provider shares nothing
    unlimited = effective(mailbox, SesAccount(-1, 1.0))
    assert unlimited.shared is not None and unlimited.shared.per_day is None
    assert effective(box(Provider.GMAIL, "me@gmail.com"), ses).shared is None
