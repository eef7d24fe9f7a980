"""Provider ceilings applied to mailboxes (``domain.provider_limits``): refusing a
``daily_limit`` above the ceiling, and the limits in force as the API shows them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sendrail.domain import provider_limits
from sendrail.domain.models import Mailbox, Provider
from sendrail.errors import ValidationFailed

# Reads the SES account's daily quota (``providers.ses.daily_quota`` with the function's
# provider config); None when there is no SES account to ask.
SesQuota = Callable[[], int | None]


@dataclass(frozen=True)
class SesAccount:
    """The SES account's quota in the sending region (``GetSendQuota``), None where SES
    could not tell: ``Max24HourSend`` (-1: unlimited) and ``MaxSendRate`` (a second)."""

    daily: int | None
    per_second: float | None


# Reads it (``providers.ses.account`` with the function's provider config, cached there
# for an hour): dispatch asks once per placement round, never per email.
SesAccountQuota = Callable[[], SesAccount]


def check_daily_limit(mailbox: Mailbox, ses_quota: SesQuota | None = None) -> None:
    """Raise :class:`ValidationFailed` naming the ceiling when the mailbox's own
    ``daily_limit`` is above its provider's."""
    quota = ses_quota() if ses_quota and mailbox.provider is Provider.SES else None
    found = provider_limits.ceiling(mailbox, quota)
    reason = provider_limits.over_ceiling(mailbox.daily_limit, found)
    if reason is not None and found is not None:
        raise ValidationFailed(
            reason,
            details=[
                {
                    "field": "daily_limit",
                    "reason": reason,
                    "ceiling": found.per_day,
                    "provider_ceiling": found.name,
                    "source": found.source,
                }
            ],
        )


def ses_daily_quota(mailboxes: Iterable[Mailbox], ses_quota: SesQuota | None) -> int | None:
    """The SES quota, read only when one of ``mailboxes`` is an SES mailbox."""
    if ses_quota is None or not any(m.provider is Provider.SES for m in mailboxes):
        return None
    return ses_quota()


def effective_limits(mailbox: Mailbox, ses_daily: int | None = None) -> dict[str, Any]:
    return provider_limits.effective(mailbox, ses_daily).as_dict()
