"""Opening a mailbox's inbox reader; each reader's library is imported on first use."""

from __future__ import annotations

from sendrail.domain.models import Mailbox, Provider
from sendrail.providers.base import ProviderConfig, TokenSource
from sendrail.providers.inbox_base import InboxReader


def readable(mailbox: Mailbox) -> bool:
    """Whether the watcher can read this mailbox's inbox (SES reports bounces itself)."""
    if mailbox.provider is Provider.SMTP:
        return mailbox.imap is not None
    if mailbox.provider in (Provider.GMAIL, Provider.OUTLOOK):
        return mailbox.has_credentials
    return False


def open_inbox(
    mailbox: Mailbox,
    secret: bytes | None,
    config: ProviderConfig,
    tokens: TokenSource | None = None,
) -> InboxReader:
    """A reader of ``mailbox``'s inbox: ``secret`` is its IMAP password (opened), ``tokens``
    the OAuth token source of a Gmail or Outlook mailbox."""
    if mailbox.provider is Provider.SMTP and mailbox.imap is not None:
        from sendrail.providers.imap import ImapInbox  # noqa: PLC0415

        return ImapInbox(
            mailbox,
            secret,
            timeout=config.smtp_timeout,
            allow_private_hosts=config.allow_private_hosts,
        )
    if mailbox.provider is Provider.GMAIL:
        from sendrail.providers.gmail_inbox import GmailInbox  # noqa: PLC0415

        return GmailInbox(mailbox, None, config, tokens)
    if mailbox.provider is Provider.OUTLOOK:
        from sendrail.providers.outlook_inbox import OutlookInbox  # noqa: PLC0415

        return OutlookInbox(mailbox, None, config, tokens)
    raise ValueError(f"the inbox of a {mailbox.provider} mailbox cannot be read")
