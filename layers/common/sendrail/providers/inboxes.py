"""Opening a mailbox's inbox reader; each reader's library is imported on first use."""

from __future__ import annotations

from sendrail.domain.models import Mailbox, Provider
from sendrail.providers.base import ProviderConfig
from sendrail.providers.inbox_base import InboxReader


def readable(mailbox: Mailbox) -> bool:
    """Whether the watcher can read this mailbox's inbox (SES reports bounces itself)."""
    if mailbox.provider is Provider.SMTP:
        return mailbox.imap is not None
    return False


def open_inbox(mailbox: Mailbox, secret: bytes | None, config: ProviderConfig) -> InboxReader:
    """A reader of ``mailbox``'s inbox; ``secret`` is its sealed IMAP password, opened."""
    if mailbox.provider is Provider.SMTP and mailbox.imap is not None:
        from sendrail.providers.imap import ImapInbox  # noqa: PLC0415

        return ImapInbox(mailbox, secret, timeout=config.smtp_timeout)
    raise ValueError(f"the inbox of a {mailbox.provider} mailbox cannot be read")
