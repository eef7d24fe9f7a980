"""The sending interface the dispatch engine owns; every provider implements it.

A provider module imports its client library lazily (inside :func:`open_sender`'s branch),
so a cold start pays only for the providers it actually uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

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

    smtp_timeout: float = 20.0
    # Connect to loopback/private/link-local hosts too (the local stack, a relay inside a
    # VPC). Off by default: a tenant's mailbox must not reach our network. Cloud metadata
    # endpoints are refused either way (``sendrail.providers.egress``).
    allow_private_hosts: bool = False
    ses_region: str = "us-east-1"
    ses_endpoint_url: str | None = None
    # The configuration set SES sends name when the mailbox names none (the stack's: it
    # publishes bounces and complaints to the feedback topic); None: none.
    ses_configuration_set: str | None = None
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
    # A CA bundle for the OAuth providers' HTTPS endpoints (the local fakes' own CA);
    # None: the system's.
    ca_bundle: str | None = None


@dataclass(frozen=True)
class Step:
    """One step of a mailbox check (``POST /api/mailboxes/{id}/verify``). ``detail`` is
    ours: never a secret, never a server's text beyond status codes."""

    step: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Grant:
    """What an OAuth exchange or refresh produced: the provider's token state (sealed at
    rest as the mailbox's secret), when its access token expires, and the access token."""

    secret: dict[str, Any]
    access_token: str
    expires_at: datetime


class RevokedGrant(Exception):
    """The user revoked the grant (or it expired): only a new consent helps."""


class RefreshFailed(Exception):
    """The token endpoint could not be used now; try again later."""


@runtime_checkable
class TokenSource(Protocol):
    """Access tokens for one OAuth mailbox; refreshing and saving is the caller's job."""

    def access_token(self) -> str:
        """A token valid for a while yet (refreshed first if it has expired)."""
        ...

    def refresh(self) -> str:
        """A new token now (after the provider answered 401)."""
        ...


class SenderFactory(Protocol):
    def __call__(
        self,
        mailbox: Mailbox,
        secret: bytes | None,
        config: ProviderConfig,
        tokens: TokenSource | None = None,
    ) -> Sender: ...


# When a provider reports its daily sending limit without saying when it resets (Gmail's
# is a rolling 24 hours), the mailbox rests this long.
DAILY_LIMIT_PAUSE = 24 * 3600.0


def retry_after_seconds(value: str | None) -> float | None:
    """An HTTP ``Retry-After`` given in seconds; None when absent or not a number."""
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def http_session(config: ProviderConfig) -> Any:
    """A ``requests`` session for the OAuth providers: with a configured CA bundle it
    trusts that alone (the environment's ``REQUESTS_CA_BUNDLE`` would win otherwise)."""
    import requests  # noqa: PLC0415

    session = requests.Session()
    if config.ca_bundle:
        session.verify = config.ca_bundle
        session.trust_env = False
    return session
