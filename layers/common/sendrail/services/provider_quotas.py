"""Provider ceilings applied to mailboxes (``domain.provider_limits``): refusing a
``daily_limit`` above the ceiling, and the limits in force as the API shows them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sendrail.domain import provider_limits
from sendrail.domain.models import Mailbox, Provider
from sendrail.domain.provider_limits import SesAccount
from sendrail.errors import ValidationFailed

# Reads the SES account's quota (``providers.ses.account`` with the function's provider
# config, cached there for an hour): dispatch asks once per placement round, never per
# email; the API when it shows or checks an SES mailbox.
SesAccountQuota = Callable[[], SesAccount]

__all__ = ["SesAccount", "SesAccountQuota"]


def check_daily_limit(mailbox: Mailbox, ses_account: SesAccountQuota | None = None) -> None:
    """Raise :class:`ValidationFailed` naming the ceiling when the mailbox's own
    ``daily_limit`` is above its provider's."""
    ses = ses_account_of([mailbox], ses_account)
    found = provider_limits.effective(mailbox, ses).ceiling
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


def ses_account_of(
    mailboxes: Iterable[Mailbox], ses_account: SesAccountQuota | None
) -> SesAccount | None:
    """The SES account's quota, read only when one of ``mailboxes`` is an SES mailbox."""
    if ses_account is None or not any(m.provider is Provider.SES for m in mailboxes):
        return None
    return ses_account()


def effective_limits(mailbox: Mailbox, ses: SesAccount | None = None) -> dict[str, Any]:
    """``effective_limits`` as the API shows it: exactly what dispatch enforces
    (``provider_limits.effective``)."""
    return provider_limits.effective(mailbox, ses).as_dict()
