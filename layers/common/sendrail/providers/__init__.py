"""Mail providers behind one interface (:mod:`sendrail.providers.base`)."""

from __future__ import annotations

from sendrail.domain.models import Mailbox, Provider
from sendrail.providers.base import ProviderConfig, Sender

# Providers that can be connected today.
SUPPORTED = frozenset({Provider.SMTP, Provider.SES})


def open_sender(mailbox: Mailbox, secret: bytes | None, config: ProviderConfig) -> Sender:
    """A connected sender for ``mailbox``; its library is imported here, on first use."""
    if mailbox.provider is Provider.SMTP:
        from sendrail.providers.smtp import SmtpSender  # noqa: PLC0415

        return SmtpSender(mailbox, secret, config)
    if mailbox.provider is Provider.SES:
        from sendrail.providers.ses import SesSender  # noqa: PLC0415

        return SesSender(mailbox, secret, config)
    raise ValueError(f"provider {mailbox.provider} is not available")
