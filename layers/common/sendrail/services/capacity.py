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
from sendrail.domain.provider_limits import EffectiveLimits, SesAccount, SharedLimit, effective
from sendrail.domain.warmup import ramp_limit
from sendrail.domain.windows import Window, zone

# The ``limits`` table's sending subjects start with these (the API's request counters,
# ``api#``, do not): the infrastructure lets the API write these for proofs.
MAILBOX, TENANT, RECIPIENT_DOMAIN, SENDER_DOMAIN = "mbx#", "ten#", "rdom#", "sdom#"
SUBJECT_PREFIXES = (MAILBOX, TENANT, RECIPIENT_DOMAIN, SENDER_DOMAIN)


def mailbox_subject(mailbox_id: str) -> str:
    return f"{MAILBOX}{mailbox_id}"


def tenant_subject(tenant_id: str) -> str:
    return f"{TENANT}{tenant_id}"


def throttle_subject(tenant_id: str, throttle: DomainThrottle) -> str:
    prefix = RECIPIENT_DOMAIN if throttle.scope is ThrottleScope.RECIPIENT else SENDER_DOMAIN
    return f"{prefix}{tenant_id}#{throttle.name.lower()}"


def ses_account_subject(region: str) -> str:
    """One SES account's sending quota in one region, shared by every SES mailbox."""
    return f"ses#{region}"


def shared_rules(shared: SharedLimit) -> Rules | None:
    """A shared limit (an SES account's ``Max24HourSend`` as a UTC day: a rolling 24 hours
    would log every send; its ``MaxSendRate`` as a minute); None when it caps nothing."""
    fixed = []
    if shared.per_day is not None:
        fixed.append(FixedRule(Period.DAY, shared.per_day))
    if shared.per_minute is not None:
        fixed.append(FixedRule(Period.MINUTE, shared.per_minute))
    return Rules(tuple(fixed)) if fixed else None


def shared_subjects(limits: EffectiveLimits, ses_region: str) -> list[tuple[str, Rules]]:
    """The limits ``limits`` (``provider_limits.effective``) shares with other mailboxes,
    as limit subjects and rules: the SES account's quota in ``ses_region``."""
    if limits.shared is None:
        return []
    rules = shared_rules(limits.shared)
    return [] if rules is None else [(ses_account_subject(ses_region), rules)]


def mailbox_rules(
    mailbox: Mailbox,
    now: datetime,
    ses: SesAccount | None = None,
    held_days: int = 0,
    limits: EffectiveLimits | None = None,
) -> Rules:
    """The mailbox's own limits, its provider's ceiling where it set none
    (``provider_limits.effective``; for SES the account's quota and rate), and its warm-up
    ramp (held ``held_days`` days: see ``services.warmup_plans.held_days``). ``limits``:
    ``effective(mailbox, ses)`` when the caller has it already."""
    limits = limits or effective(mailbox, ses)
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
