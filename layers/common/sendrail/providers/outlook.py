"""Outlook / Microsoft 365: OAuth with msal's ConfidentialClientApplication, whose
SerializableTokenCache is the mailbox's sealed secret (refreshed with
``acquire_token_silent``; Microsoft rotates the refresh token on every use and the cache
keeps the newest), and sending through Microsoft Graph ``sendMail`` with the MIME message
from our builder (so the Message-ID is ours).

Scopes: ``Mail.Send`` to send, ``Mail.ReadBasic`` for the Message-ID lookup in Sent
Items (``internetMessageId`` without reading bodies) and ``Mail.Read`` for the inbox
watcher (bounces and replies). msal adds ``offline_access``,
``openid`` and ``profile`` itself (it refuses them in the scope list)."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

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
    http_session,
    retry_after_seconds,
)

SCOPES = [
    "https://graph.microsoft.com/Mail.Send",
    "https://graph.microsoft.com/Mail.ReadBasic",
    "https://graph.microsoft.com/Mail.Read",  # the inbox watcher reads the inbox
]
_MAILBOX_CODES = {
    "ErrorExceededMessageLimit",  # Exchange's daily recipient/message limit
    "ErrorMessageSubmissionBlocked",
    "ErrorSendAsDenied",
    "ErrorAccessDenied",
    "MailboxNotEnabledForRESTAPI",
}
_REVOKED = {"invalid_grant", "interaction_required", "consent_required", "unauthorized_client"}


def _app(config: ProviderConfig, cache: Any) -> Any:
    import msal  # noqa: PLC0415

    return msal.ConfidentialClientApplication(
        config.microsoft_client_id or "",
        client_credential=config.microsoft_client_secret,
        authority=config.microsoft_authority,
        token_cache=cache,
        instance_discovery=False,  # the authority is configured, not discovered
        http_client=http_session(config),
        timeout=config.http_timeout,
    )


def _cache(serialized: str | None = None) -> Any:
    import msal  # noqa: PLC0415

    cache = msal.SerializableTokenCache()
    if serialized:
        cache.deserialize(serialized)
    return cache


def authorize_url(config: ProviderConfig, state: str, redirect_uri: str, login_hint: str) -> str:
    return str(
        _app(config, _cache()).get_authorization_request_url(
            SCOPES, state=state, redirect_uri=redirect_uri, login_hint=login_hint
        )
    )


def _grant(result: dict[str, Any], cache: Any, account: str, now: datetime) -> Grant:
    expires_at = now + timedelta(seconds=int(result.get("expires_in", 3600)))
    access = str(result["access_token"])
    # The access token is in the cache too; kept beside it so every provider's secret
    # answers ``access_token`` the same way.
    secret = {"cache": cache.serialize(), "account": account, "access_token": access}
    return Grant(secret, access, expires_at)


def _failure(result: dict[str, Any] | None) -> Exception:
    if not result:
        return RevokedGrant("Microsoft: no account or refresh token in the cache")
    error = str(result.get("error", ""))
    detail = f"Microsoft: {error}: {result.get('error_description', '')}"[:300]
    return RevokedGrant(detail) if error in _REVOKED else RefreshFailed(detail)


def exchange(config: ProviderConfig, code: str, redirect_uri: str, now: datetime) -> Grant:
    cache = _cache()
    app = _app(config, cache)
    try:
        result = app.acquire_token_by_authorization_code(code, SCOPES, redirect_uri=redirect_uri)
    except (OSError, ValueError) as exc:
        raise RefreshFailed(f"Microsoft's token endpoint failed: {exc}"[:300]) from exc
    if "access_token" not in result:
        raise _failure(result)
    accounts = app.get_accounts()
    if not accounts:
        raise RevokedGrant("Microsoft returned no account")
    return _grant(result, cache, str(accounts[0]["home_account_id"]), now)


def refresh(config: ProviderConfig, secret: dict[str, Any], now: datetime) -> Grant:
    cache = _cache(secret.get("cache"))
    app = _app(config, cache)
    account = next(
        (a for a in app.get_accounts() if a.get("home_account_id") == secret.get("account")),
        None,
    )
    if account is None:
        raise RevokedGrant("Microsoft: the account is gone from the token cache")
    try:
        result = app.acquire_token_silent_with_error(SCOPES, account, force_refresh=True)
    except (OSError, ValueError) as exc:
        raise RefreshFailed(f"Microsoft's token endpoint failed: {exc}"[:300]) from exc
    if not result or "access_token" not in result:
        raise _failure(result)
    return _grant(result, cache, str(account["home_account_id"]), now)


class OutlookSender:
    def __init__(
        self,
        mailbox: Mailbox,
        secret: bytes | None,
        config: ProviderConfig,
        tokens: TokenSource | None = None,
    ) -> None:
        if tokens is None:
            raise MailboxSendError("Outlook mailbox is not connected", reason="graph_no_grant")
        self._tokens = tokens
        self._config = config
        self._root = config.graph_api_root.rstrip("/")
        self._http = http_session(config)

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        for attempt in (0, 1):
            token = self._tokens.access_token() if attempt == 0 else self._tokens.refresh()
            response = self._http.request(
                method,
                self._root + path,
                headers={**headers, "Authorization": f"Bearer {token}"},
                timeout=self._config.http_timeout,
                **kwargs,
            )
            if response.status_code != 401:
                return response
        return response

    def send(self, message: OutgoingMessage) -> SendReceipt:
        import requests  # noqa: PLC0415

        body = base64.b64encode(message.as_bytes())
        try:
            response = self._request(
                "POST", "/me/sendMail", data=body, headers={"Content-Type": "text/plain"}
            )
        except requests.ConnectTimeout as exc:  # never reached Graph
            raise TemporarySendError(
                f"Graph unreachable: {type(exc).__name__}", reason="graph_transport"
            ) from None
        except requests.Timeout as exc:  # the request went out: Graph may have taken it
            raise UnknownOutcome(f"Graph did not answer: {exc}", reason="graph_timeout") from None
        except requests.ConnectionError as exc:
            raise TemporarySendError(
                f"Graph unreachable: {type(exc).__name__}", reason="graph_transport"
            ) from None
        if response.status_code in (200, 202):
            return SendReceipt(provider_message_id=response.headers.get("request-id"))
        raise classify(response.status_code, _error(response), response.headers.get("Retry-After"))

    def was_sent(self, message_id: str, since: datetime) -> bool | None:
        import requests  # noqa: PLC0415

        wanted = message_id.replace("'", "''")
        path = "/me/mailFolders/SentItems/messages?$select=id&$top=1&$filter=" + quote(
            f"internetMessageId eq '{wanted}'"
        )
        try:
            response = self._request("GET", path)
        except requests.RequestException:
            return None
        if response.status_code != 200:
            return None
        return bool(response.json().get("value"))

    def profile(self) -> str:
        """The address the grant belongs to (Graph ``/me``), for the mailbox check.
        Raises ``OSError`` (with the HTTP status only) when Graph refuses."""
        import requests  # noqa: PLC0415

        try:
            response = self._request("GET", "/me")
        except requests.RequestException as exc:
            raise OSError(f"Graph unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise OSError(f"Graph answered HTTP {response.status_code}")
        found = response.json()
        return str(found.get("mail") or found.get("userPrincipalName") or "")

    def close(self) -> None:
        self._http.close()


def _error(response: Any) -> str:
    try:
        error = response.json().get("error", {})
        return f"{error.get('code', '')}: {error.get('message', '')}"
    except ValueError:
        return str(response.text)[:300]


def classify(status: int, error: str, retry_after: str | None) -> Exception:
    detail = f"Graph {status} {error}"[:500]
    code = error.split(":", 1)[0]
    wait = retry_after_seconds(retry_after)
    if code == "ErrorExceededMessageLimit":
        return MailboxSendError(
            detail, reason="graph_daily_limit", retry_after=wait or DAILY_LIMIT_PAUSE
        )
    if code in _MAILBOX_CODES or status == 403:
        return MailboxSendError(detail, reason=f"graph_{code or status}")
    if status == 401:
        return MailboxSendError(detail, reason="graph_unauthorized", status="needs_reauth")
    if status == 429:
        return RateLimited(detail, reason="graph_429", retry_after=wait)
    if status >= 500:
        return TemporarySendError(detail, reason=f"graph_{status}", retry_after=wait)
    return PermanentSendError(detail, reason=f"graph_{code or status}")
