"""The providers' published sending ceilings, and the limits in force for a mailbox.

A mailbox without its own ``daily_limit`` gets its provider's ceiling (sending past it
gets the account blocked for a day or more); an explicit limit above the ceiling is
refused. The figures, each with where it is published (checked 2026-12):

- Gmail (consumer, ``@gmail.com``/``@googlemail.com``): 500 recipients a day.
  https://support.google.com/mail/answer/22839
- Google Workspace: 2,000 messages a day per user (trial accounts: 500).
  https://support.google.com/a/answer/166852
- Outlook.com (``@outlook.com``, ``@hotmail.*``, ``@live.*``, ``@msn.com``): 300
  recipients a day.
  https://support.microsoft.com/office/sending-limits-in-outlook-com-279ee200-594c-40f0-9ec8-bb6af7735c2e
- Exchange Online (Microsoft 365): 10,000 recipients a day, 30 messages a minute.
  https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#sending-limits
- Amazon SES: the account's own quota (``GetSendQuota``'s ``Max24HourSend``, and
  ``MaxSendRate`` a second), per region, shared by every SES mailbox of the account.
  https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html

:func:`effective` is the one place the limits in force are worked out: dispatch, feeding,
the estimate and the API (``effective_limits``) all read them from it.

SMTP mailboxes are matched by their server (``smtp.gmail.com``, ``smtp.office365.com``
…); any other SMTP server has no known ceiling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sendrail.domain.models import Mailbox, Provider


@dataclass(frozen=True)
class SesAccount:
    """The SES account's quota in the sending region (``GetSendQuota``), None where SES
    could not tell: ``Max24HourSend`` (-1: unlimited) and ``MaxSendRate`` (a second)."""

    daily: int | None
    per_second: float | None


@dataclass(frozen=True)
class Ceiling:
    name: str
    per_day: int
    per_minute: int | None
    source: str


GMAIL = Ceiling("gmail", 500, None, "https://support.google.com/mail/answer/22839")
GOOGLE_WORKSPACE = Ceiling(
    "google_workspace", 2000, None, "https://support.google.com/a/answer/166852"
)
OUTLOOK_COM = Ceiling(
    "outlook_com",
    300,
    None,
    "https://support.microsoft.com/office/sending-limits-in-outlook-com-279ee200-594c-40f0-9ec8-bb6af7735c2e",
)
EXCHANGE_ONLINE = Ceiling(
    "exchange_online",
    10_000,
    30,
    "https://learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits#sending-limits",
)
SES_SOURCE = "https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas.html"

GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})
OUTLOOK_COM_DOMAINS = frozenset(
    {"outlook.com", "hotmail.com", "live.com", "msn.com", "hotmail.co.uk", "live.co.uk",
     "outlook.fr", "hotmail.fr", "live.fr", "hotmail.de", "outlook.de", "hotmail.it"}
)  # fmt: skip
GOOGLE_SMTP_HOSTS = frozenset({"smtp.gmail.com", "smtp.googlemail.com", "smtp-relay.gmail.com"})
MICROSOFT_SMTP_HOSTS = frozenset({"smtp.office365.com", "smtp-mail.outlook.com"})


def _google(domain: str) -> Ceiling:
    return GMAIL if domain in GMAIL_DOMAINS else GOOGLE_WORKSPACE


def _microsoft(domain: str) -> Ceiling:
    return OUTLOOK_COM if domain in OUTLOOK_COM_DOMAINS else EXCHANGE_ONLINE


def ses_per_minute(max_send_rate: float | None) -> int | None:
    """SES's ``MaxSendRate`` (a second) as a whole number a minute; None when unknown."""
    if max_send_rate is None or max_send_rate <= 0:
        return None
    return max(1, int(max_send_rate * 60))


def ceiling(
    mailbox: Mailbox, ses_daily_quota: int | None = None, ses_max_rate: float | None = None
) -> Ceiling | None:
    """The provider's ceiling for ``mailbox``; None when none is known (an SMTP server of
    one's own, SES when its quota could not be read). SES's ``MaxSendRate`` (messages a
    second), when known, becomes a per-minute ceiling."""
    domain = mailbox.domain
    if mailbox.provider is Provider.GMAIL:
        return _google(domain)
    if mailbox.provider is Provider.OUTLOOK:
        return _microsoft(domain)
    if mailbox.provider is Provider.SES:
        if ses_daily_quota is None or ses_daily_quota < 0:  # -1: unlimited (SES says so)
            return None
        per_minute = ses_per_minute(ses_max_rate)
        return Ceiling("ses", ses_daily_quota, per_minute, SES_SOURCE)
    host = (mailbox.smtp.host.lower().rstrip(".") if mailbox.smtp else "").strip()
    if host in GOOGLE_SMTP_HOSTS:
        return _google(domain)
    if host in MICROSOFT_SMTP_HOSTS:
        return _microsoft(domain)
    return None


@dataclass(frozen=True)
class SharedLimit:
    """A limit every mailbox of one account counts against together (an SES account's
    quota in its region): one mailbox alone never sends past it, nor do all of them."""

    name: str
    per_day: int | None
    per_minute: int | None
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "per_day": self.per_day,
            "per_minute": self.per_minute,
            "source": self.source,
        }


def ses_shared(ses: SesAccount | None) -> SharedLimit | None:
    """The SES account's quota and rate as a shared limit; None when SES told neither."""
    if ses is None:
        return None
    daily = ses.daily if ses.daily is not None and ses.daily >= 0 else None
    per_minute = ses_per_minute(ses.per_second)
    if daily is None and per_minute is None:
        return None
    return SharedLimit("ses_account", daily, per_minute, SES_SOURCE)


@dataclass(frozen=True)
class EffectiveLimits:
    """The limits in force, before warm-up: ``daily_limit`` None means uncapped."""

    daily_limit: int | None
    per_minute: int | None
    hourly_limit: int | None
    daily_source: str  # "mailbox" | "provider_default" | "none"
    ceiling: Ceiling | None
    shared: SharedLimit | None = None  # counted with the account's other mailboxes

    def as_dict(self) -> dict[str, Any]:
        return {
            "daily_limit": self.daily_limit,
            "per_minute": self.per_minute,
            "hourly_limit": self.hourly_limit,
            "daily_source": self.daily_source,
            "provider_ceiling": None
            if self.ceiling is None
            else {
                "name": self.ceiling.name,
                "per_day": self.ceiling.per_day,
                "per_minute": self.ceiling.per_minute,
                "source": self.ceiling.source,
            },
            "shared": None if self.shared is None else self.shared.as_dict(),
        }


def effective(mailbox: Mailbox, ses: SesAccount | None = None) -> EffectiveLimits:
    """The limits dispatch enforces on ``mailbox`` (before its warm-up ramp): its own, its
    provider's ceiling, and for an SES mailbox the account's quota (``ses``: read by the
    caller, None when unknown) both as its ceiling and as a limit shared by the account's
    mailboxes."""
    if mailbox.provider is not Provider.SES:
        ses = None
    found = ceiling(mailbox, ses.daily if ses else None, ses.per_second if ses else None)
    own = mailbox.daily_limit or None
    if own is not None:
        daily: int | None = own if found is None else min(own, found.per_day)
        source = "mailbox"
    elif found is not None:
        daily, source = found.per_day, "provider_default"
    else:
        daily, source = None, "none"
    return EffectiveLimits(
        daily_limit=daily,
        per_minute=found.per_minute if found else None,
        hourly_limit=mailbox.hourly_limit,
        daily_source=source,
        ceiling=found,
        shared=ses_shared(ses),
    )


def over_ceiling(daily_limit: int | None, found: Ceiling | None) -> str | None:
    """Why an explicit ``daily_limit`` is refused, or None when it fits."""
    if not daily_limit or found is None or daily_limit <= found.per_day:
        return None
    return (
        f"daily_limit {daily_limit} is above the {found.name} ceiling of {found.per_day} a "
        f"day ({found.source})"
    )
