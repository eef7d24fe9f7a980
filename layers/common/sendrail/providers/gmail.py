"""Gmail: OAuth through Google's endpoints (google-auth refreshes), sending with
google-api-python-client's ``users.messages.send`` (the raw RFC 5322 message from our MIME
builder, so the Message-ID is ours), and the Message-ID lookup for unknown outcomes.

Scopes: ``gmail.send`` to send, and ``gmail.readonly`` for the lookup: the lookup is a
``rfc822msgid:`` search (``q``), which Gmail refuses under the narrower ``gmail.metadata``
scope."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sendrail.domain.mime import OutgoingMessage
from sendrail.domain.models import Mailbox
from sendrail.errors import (
    MailboxSendError,
    PermanentSendError,
    RateLimited,
    TemporarySendError,
    UnknownOutcome,
)
from sendrail.providers.base import (
    DAILY_LIMIT_PAUSE,
    Grant,
    ProviderConfig,
    RefreshFailed,
    RevokedGrant,
    SendReceipt,
    TokenSource,
    retry_after_seconds,
)

SCOPES = (
    "https://www.googleapis.com/auth/gmail.send",
    "https://www.googleapis.com/auth/gmail.readonly",
)
_DAILY_LIMIT_MARKS = ("mail sending", "daily user sending limit", "dailylimitexceeded")


def authorize_url(config: ProviderConfig, state: str, redirect_uri: str, login_hint: str) -> str:
    query = {
        "client_id": config.google_client_id or "",
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(SCOPES),
        "access_type": "offline",  # a refresh token
        "prompt": "consent",  # ... every time, even on reconnect
        "include_granted_scopes": "true",
        "login_hint": login_hint,
        "state": state,
    }
    return f"{config.google_auth_uri}?{urlencode(query)}"


def _grant(body: dict[str, Any], refresh_token: str, now: datetime) -> Grant:
    access = str(body["access_token"])
    expires_at = now + timedelta(seconds=int(body.get("expires_in", 3600)))
    return Grant({"refresh_token": refresh_token, "access_token": access}, access, expires_at)


def exchange(config: ProviderConfig, code: str, redirect_uri: str, now: datetime) -> Grant:
    """The authorization code for tokens (google-auth has no public call for this step)."""
    import requests  # noqa: PLC0415

    try:
        response = requests.post(
            config.google_token_uri,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": config.google_client_id,
                "client_secret": config.google_client_secret,
            },
            timeout=config.http_timeout,
            verify=config.ca_bundle or True,
        )
    except requests.RequestException as exc:
        raise RefreshFailed(
            f"Google's token endpoint is unreachable: {type(exc).__name__}"
        ) from exc
    body = response.json() if response.content else {}
    if response.status_code != 200 or "refresh_token" not in body:
        raise RevokedGrant(f"Google refused the code: {body.get('error', response.status_code)}")
    return _grant(body, str(body["refresh_token"]), now)


def refresh(config: ProviderConfig, secret: dict[str, Any], now: datetime) -> Grant:
    from google.auth.exceptions import RefreshError, TransportError  # noqa: PLC0415
    from google.auth.transport.requests import Request  # noqa: PLC0415
    from google.oauth2.credentials import Credentials  # noqa: PLC0415

    credentials = Credentials(
        token=None,
        refresh_token=secret["refresh_token"],
        token_uri=config.google_token_uri,
        client_id=config.google_client_id,
        client_secret=config.google_client_secret,
    )
    try:
        credentials.refresh(Request())
    except RefreshError as exc:
        if "invalid_grant" in str(exc) or "unauthorized_client" in str(exc):
            raise RevokedGrant(f"Google: {exc}"[:300]) from exc
        raise RefreshFailed(f"Google: {exc}"[:300]) from exc
    except TransportError as exc:
        raise RefreshFailed(f"Google's token endpoint is unreachable: {exc}"[:300]) from exc
    expiry = credentials.expiry.replace(tzinfo=UTC) if credentials.expiry else None
    lifetime = int((expiry - now).total_seconds()) if expiry else 3600
    return _grant(
        {"access_token": credentials.token, "expires_in": lifetime},
        credentials.refresh_token or secret["refresh_token"],
        now,
    )


class GmailSender:
    def __init__(
        self,
        mailbox: Mailbox,
        secret: bytes | None,
        config: ProviderConfig,
        tokens: TokenSource | None = None,
    ) -> None:
        if tokens is None:
            raise MailboxSendError("Gmail mailbox is not connected", reason="gmail_no_grant")
        self._tokens = tokens
        self._config = config
        self._service: Any = None
        self._token: str | None = None

    def _gmail(self, token: str) -> Any:
        if self._service is None or token != self._token:
            import google_auth_httplib2  # noqa: PLC0415
            import httplib2  # noqa: PLC0415
            from google.oauth2.credentials import Credentials  # noqa: PLC0415
            from googleapiclient.discovery import build  # noqa: PLC0415

            http = google_auth_httplib2.AuthorizedHttp(
                Credentials(token=token),
                http=httplib2.Http(timeout=self._config.http_timeout),
                refresh_status_codes=(),  # a 401 comes back to us: refresh is ours to do
            )
            self._service = build(
                "gmail",
                "v1",
                http=http,
                static_discovery=True,  # the bundled document: no discovery request
                cache_discovery=False,
                client_options={"api_endpoint": self._config.gmail_api_root},
            )
            self._token = token
        return self._service

    def _call(self, make: Any) -> Any:
        from googleapiclient.errors import HttpError  # noqa: PLC0415

        token = self._tokens.access_token()
        try:
            return make(self._gmail(token)).execute(num_retries=0)
        except HttpError as exc:
            if exc.resp.status != 401:
                raise
        return make(self._gmail(self._tokens.refresh())).execute(num_retries=0)

    def send(self, message: OutgoingMessage) -> SendReceipt:
        from googleapiclient.errors import HttpError  # noqa: PLC0415

        raw = base64.urlsafe_b64encode(message.as_bytes()).decode()
        try:
            result = self._call(
                lambda gmail: gmail.users().messages().send(userId="me", body={"raw": raw})
            )
        except HttpError as exc:
            raise classify(exc.resp.status, _reason(exc), exc.resp.get("retry-after")) from None
        except TimeoutError as exc:
            raise UnknownOutcome(f"Gmail did not answer: {exc}", reason="gmail_timeout") from None
        except OSError as exc:
            raise TemporarySendError(
                f"Gmail unreachable: {type(exc).__name__}", reason="gmail_transport"
            ) from None
        return SendReceipt(provider_message_id=str(result.get("id")) if result else None)

    def was_sent(self, message_id: str, since: datetime) -> bool | None:
        from googleapiclient.errors import HttpError  # noqa: PLC0415

        query = f"rfc822msgid:{message_id.strip('<>')}"
        try:
            found = self._call(
                lambda gmail: (
                    gmail.users()
                    .messages()
                    .list(userId="me", q=query, includeSpamTrash=True, maxResults=1)
                )
            )
        except (HttpError, OSError):
            return None
        return bool(found.get("messages"))

    def profile(self) -> str:
        """The address the grant belongs to (``users.getProfile``), for the mailbox check.
        Raises ``OSError`` (with the HTTP status only) when Gmail refuses."""
        from googleapiclient.errors import HttpError  # noqa: PLC0415

        try:
            found = self._call(lambda gmail: gmail.users().getProfile(userId="me"))
        except HttpError as exc:
            raise OSError(f"Gmail answered HTTP {exc.resp.status}") from None
        return str((found or {}).get("emailAddress", ""))

    def close(self) -> None:
        self._service = None


def _reason(exc: Any) -> str:
    try:
        error = json.loads(exc.content).get("error", {})
        reasons = [e.get("reason", "") for e in error.get("errors", [])]
        return f"{error.get('message', '')} {' '.join(reasons)}".strip()
    except (ValueError, AttributeError, TypeError):
        return str(exc)[:300]


def classify(status: int, reason: str, retry_after: str | None) -> Exception:
    """Gmail's answers: quota and rate errors are temporary (honouring Retry-After), the
    daily sending limit pauses the mailbox until it resets, 4xx about the message are
    permanent for that recipient, 5xx are temporary."""
    detail = f"Gmail {status}: {reason}"[:500]
    wait = retry_after_seconds(retry_after)
    lowered = reason.lower()
    if status in (429, 403) and any(mark in lowered for mark in _DAILY_LIMIT_MARKS):
        return MailboxSendError(
            detail, reason="gmail_daily_limit", retry_after=wait or DAILY_LIMIT_PAUSE
        )
    if status == 429 or "ratelimitexceeded" in lowered.replace(" ", ""):
        return RateLimited(detail, reason="gmail_rate", retry_after=wait)
    if status == 401:
        return MailboxSendError(detail, reason="gmail_unauthorized", status="needs_reauth")
    if status == 403:
        return MailboxSendError(detail, reason="gmail_forbidden")
    if status >= 500:
        return TemporarySendError(detail, reason=f"gmail_{status}", retry_after=wait)
    return PermanentSendError(detail, reason=f"gmail_{status}")
