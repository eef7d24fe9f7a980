"""The sending interface the dispatch engine owns; every provider implements it.

A provider module imports its client library lazily (inside :func:`open_sender`'s branch),
so a cold start pays only for the providers it actually uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sendrail.domain.mime import OutgoingMessage
from sendrail.domain.models import Mailbox


@dataclass(frozen=True)
class SendReceipt:
    provider_message_id: str | None = None


@runtime_checkable
class Sender(Protocol):
    def send(self, message: OutgoingMessage) -> SendReceipt:
        """Hand one message to the provider. Raises a ``sendrail.errors.SendError``:
        ``TemporarySendError``, ``PermanentSendError``, ``MailboxSendError`` or
        ``UnknownOutcome`` (the provider may have accepted it)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class SentLookup(Protocol):
    """Providers that can tell whether a message with a given Message-ID was sent."""

    def was_sent(self, message_id: str, since: datetime) -> bool | None:
        """True/False when the provider knows; None when it cannot tell."""
        ...


@dataclass(frozen=True)
class ProviderConfig:
    """Endpoints and client settings for every provider (from the function's settings)."""

    smtp_timeout: float = 30.0
    ses_region: str = "us-east-1"
    ses_endpoint_url: str | None = None
    google_client_id: str | None = None
    google_client_secret: str | None = None
    google_auth_uri: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_uri: str = "https://oauth2.googleapis.com/token"
    gmail_api_root: str = "https://gmail.googleapis.com/"
    microsoft_client_id: str | None = None
    microsoft_client_secret: str | None = None
    microsoft_authority: str = "https://login.microsoftonline.com/common"
    graph_api_root: str = "https://graph.microsoft.com/v1.0"
    http_timeout: float = 30.0
    extra: dict[str, str] = field(default_factory=dict)


class SenderFactory(Protocol):
    def __call__(
        self, mailbox: Mailbox, secret: bytes | None, config: ProviderConfig
    ) -> Sender: ...
