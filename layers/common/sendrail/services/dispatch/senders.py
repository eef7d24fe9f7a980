"""The engine's :class:`~sendrail.services.dispatch.ports.SenderSource` in production:
opens a provider's sender with the mailbox's sealed secret (SMTP password) or its OAuth
token source (Gmail, Outlook), and says how many connections a mailbox may use."""

from __future__ import annotations

from collections.abc import Callable

from sendrail.domain.models import OAUTH_PROVIDERS, Mailbox, Provider
from sendrail.providers import open_sender
from sendrail.providers.base import ProviderConfig, Sender
from sendrail.services.deps import Deps
from sendrail.services.oauth import MailboxTokens

SenderOpener = Callable[..., Sender]  # (mailbox, secret, config[, tokens]): see SenderFactory


class ProviderSenders:
    def __init__(
        self, deps: Deps, config: ProviderConfig, opener: SenderOpener = open_sender
    ) -> None:
        self._deps = deps
        self._config = config
        self._open = opener

    def open(self, mailbox: Mailbox) -> Sender:
        if mailbox.provider in OAUTH_PROVIDERS:
            # Tokens are read (and refreshed if expired) through the token source.
            tokens = MailboxTokens(self._deps, self._config, mailbox)
            return self._open(mailbox, None, self._config, tokens)
        secret = self._deps.secrets.open(mailbox.secret, mailbox.id) if mailbox.secret else None
        return self._open(mailbox, secret, self._config)

    def connections(self, mailbox: Mailbox) -> int:
        """``max_connections`` when the mailbox sets it; SES derives one from the account's
        sending rate; everything else sends over one connection."""
        if mailbox.max_connections is not None:
            return mailbox.max_connections
        if mailbox.provider is Provider.SES:
            from sendrail.providers import ses  # noqa: PLC0415 - only SES mailboxes need it

            return ses.default_connections(self._config)
        return 1
