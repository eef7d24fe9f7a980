"""Who may send a campaign's mail, under which limits and windows.

One place for the rules that dispatch, feeding, the estimate and the queue views share:
a campaign's mailbox pool, the limit subjects and rules of mailboxes, sender domains,
recipient domains and tenants, and the windows that apply to one recipient."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sendrail.domain.limits import FixedRule, Period, Rules, SlidingRule
from sendrail.domain.models import (
    Campaign,
    DomainThrottle,
    Mailbox,
    MailboxStatus,
    SendingSettings,
    ThrottleScope,
)
from sendrail.domain.provider_limits import effective, ses_per_minute
from sendrail.domain.warmup import ramp_limit
from sendrail.domain.windows import Window, zone


def mailbox_subject(mailbox_id: str) -> str:
    return f"mbx#{mailbox_id}"


def tenant_subject(tenant_id: str) -> str:
    return f"ten#{tenant_id}"


def throttle_subject(tenant_id: str, throttle: DomainThrottle) -> str:
    prefix = "rdom" if throttle.scope is ThrottleScope.RECIPIENT else "sdom"
    return f"{prefix}#{tenant_id}#{throttle.name.lower()}"


def ses_account_subject(region: str) -> str:
    """One SES account's sending quota in one region, shared by every SES mailbox."""
    return f"ses#{region}"


def ses_account_rules(daily_quota: int | None, max_send_rate: float | None) -> Rules | None:
    """The account's ``Max24HourSend`` (as a UTC day: a rolling 24 hours would log every
    send) and ``MaxSendRate`` (as a minute); None when SES told neither (-1: unlimited)."""
    fixed = []
    if daily_quota is not None and daily_quota >= 0:
        fixed.append(FixedRule(Period.DAY, daily_quota))
    per_minute = ses_per_minute(max_send_rate)
    if per_minute is not None:
        fixed.append(FixedRule(Period.MINUTE, per_minute))
    return Rules(tuple(fixed)) if fixed else None


def mailbox_rules(
    mailbox: Mailbox,
    now: datetime,
    ses_daily_quota: int | None = None,
    held_days: int = 0,
    ses_max_rate: float | None = None,
) -> Rules:
    """The mailbox's own limits, its provider's ceiling where it set none
    (``domain.provider_limits``; for SES the account's quota and rate), and its warm-up ramp
    (held ``held_days`` days: see ``services.warmup_plans.held_days``)."""
    limits = effective(mailbox, ses_daily_quota, ses_max_rate)
    today = ramp_limit(mailbox, now, limits.daily_limit, held_days)
    fixed = [FixedRule(Period.DAY, today, mailbox.timezone)]
    if mailbox.hourly_limit is not None:
        fixed.append(FixedRule(Period.HOUR, mailbox.hourly_limit))
    if limits.per_minute is not None:
        fixed.append(FixedRule(Period.MINUTE, limits.per_minute))
    sliding = (
        SlidingRule(mailbox.rate_limit.count, mailbox.rate_limit.per_seconds)
        if mailbox.rate_limit
        else None
    )
    return Rules(tuple(fixed), sliding)


def tenant_rules(settings: SendingSettings) -> Rules:
    fixed = []
    if settings.max_per_day is not None:
        fixed.append(FixedRule(Period.DAY, settings.max_per_day, settings.timezone))
    if settings.max_per_hour is not None:
        fixed.append(FixedRule(Period.HOUR, settings.max_per_hour))
    sliding = None
    if settings.batch_delay_seconds > 0:
        # phpList-style batches: at most batch_size sends per batch_delay_seconds.
        sliding = SlidingRule(settings.batch_size, settings.batch_delay_seconds)
    return Rules(tuple(fixed), sliding)


def throttle_rules(throttle: DomainThrottle, settings: SendingSettings) -> Rules:
    fixed = []
    if throttle.max_per_day is not None:
        fixed.append(FixedRule(Period.DAY, throttle.max_per_day, settings.timezone))
    if throttle.max_per_hour is not None:
        fixed.append(FixedRule(Period.HOUR, throttle.max_per_hour))
    if throttle.max_per_minute is not None:
        fixed.append(FixedRule(Period.MINUTE, throttle.max_per_minute))
    return Rules(tuple(fixed))


def pool(campaign: Campaign, mailboxes: Iterable[Mailbox]) -> list[Mailbox]:
    """The campaign's mailboxes that may send now (active), in a stable order."""
    chosen = [m for m in mailboxes if m.status is MailboxStatus.ACTIVE]
    if campaign.mailbox_ids:
        wanted = set(campaign.mailbox_ids)
        chosen = [m for m in chosen if m.id in wanted]
    elif campaign.mailbox_tags:
        tags = set(campaign.mailbox_tags)
        chosen = [m for m in chosen if tags & set(m.tags)]
    return sorted(chosen, key=lambda m: m.id)


@dataclass(frozen=True)
class TenantPolicy:
    """A tenant's settings and throttles, indexed for lookups per message."""

    tenant_id: str
    settings: SendingSettings
    recipient_throttles: dict[str, list[DomainThrottle]]  # recipient domain -> throttles
    sender_throttles: dict[str, list[DomainThrottle]]  # sender domain -> throttles

    @classmethod
    def build(
        cls, tenant_id: str, settings: SendingSettings, throttles: Sequence[DomainThrottle]
    ) -> TenantPolicy:
        recipient: dict[str, list[DomainThrottle]] = {}
        sender: dict[str, list[DomainThrottle]] = {}
        for throttle in throttles:
            index = recipient if throttle.scope is ThrottleScope.RECIPIENT else sender
            for domain in throttle.covers():
                index.setdefault(domain, []).append(throttle)
        return cls(tenant_id, settings, recipient, sender)

    def tenant_subject(self) -> tuple[str, Rules] | None:
        return self._tenant_subject

    @cached_property
    def _tenant_subject(self) -> tuple[str, Rules] | None:
        rules = tenant_rules(self.settings)
        if not rules.fixed and rules.sliding is None:
            return None
        return tenant_subject(self.tenant_id), rules

    def recipient_subjects(self, domain: str) -> list[tuple[str, Rules]]:
        return [
            (throttle_subject(self.tenant_id, t), throttle_rules(t, self.settings))
            for t in self.recipient_throttles.get(domain.lower(), [])
        ]

    def sender_subjects(self, domain: str) -> list[tuple[str, Rules]]:
        return [
            (throttle_subject(self.tenant_id, t), throttle_rules(t, self.settings))
            for t in self.sender_throttles.get(domain.lower(), [])
        ]


def windows_for(
    settings: SendingSettings, campaign: Campaign, recipient_timezone: str | None = None
) -> list[Window]:
    """The windows one message must be inside: the tenant's, and the campaign's (in the
    recipient's own timezone when the campaign asks for it and the recipient has one)."""
    windows: list[Window] = []
    if settings.window is not None:
        windows.append(settings.window)
    if campaign.window is not None:
        window = campaign.window
        if campaign.recipient_timezone_field and recipient_timezone:
            try:
                zone(recipient_timezone)
                window = window.model_copy(update={"timezone": recipient_timezone})
            except ValueError:
                pass
        windows.append(window)
    return windows
