"""Mail providers behind one interface (:mod:`sendrail.providers.base`)."""

from __future__ import annotations

from types import ModuleType

from sendrail.domain.models import OAUTH_PROVIDERS, Mailbox, Provider
from sendrail.providers.base import ProviderConfig, Sender, TokenSource

SUPPORTED = frozenset({Provider.SMTP, Provider.SES, Provider.GMAIL, Provider.OUTLOOK})
OAUTH = OAUTH_PROVIDERS


def oauth(provider: Provider) -> ModuleType:
    """The module with ``authorize_url``, ``exchange`` and ``refresh`` for ``provider``."""
    if provider is Provider.GMAIL:
        from sendrail.providers import gmail  # noqa: PLC0415

        return gmail
    if provider is Provider.OUTLOOK:
        from sendrail.providers import outlook  # noqa: PLC0415

        return outlook
    raise ValueError(f"{provider} is not an OAuth provider")


def open_sender(
    mailbox: Mailbox,
    secret: bytes | None,
    config: ProviderConfig,
    tokens: TokenSource | None = None,
) -> Sender:
    """A connected sender for ``mailbox``; its library is imported here, on first use."""
    if mailbox.provider is Provider.SMTP:
        from sendrail.providers.smtp import SmtpSender  # noqa: PLC0415

        return SmtpSender(mailbox, secret, config)
    if mailbox.provider is Provider.SES:
        from sendrail.providers.ses import SesSender  # noqa: PLC0415

        return SesSender(mailbox, secret, config)
    if mailbox.provider is Provider.GMAIL:
        from sendrail.providers.gmail import GmailSender  # noqa: PLC0415

        return GmailSender(mailbox, secret, config, tokens)
    if mailbox.provider is Provider.OUTLOOK:
        from sendrail.providers.outlook import OutlookSender  # noqa: PLC0415

        return OutlookSender(mailbox, secret, config, tokens)
    raise ValueError(f"provider {mailbox.provider} is not available")
