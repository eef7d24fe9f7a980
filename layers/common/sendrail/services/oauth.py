"""Connecting Gmail and Outlook mailboxes and keeping their tokens fresh.

The consent link carries a signed, expiring ``state`` naming the mailbox; the callback
exchanges the code and seals the provider's token state as the mailbox's secret (KMS
envelope encryption), with ``token_expires_at`` in the sparse token index.

Refreshes are saved with a conditional write on the mailbox's version: a refresher that
lost a race to another one (the ``token_version`` moved) drops its result and uses the
winner's; one that lost only to an unrelated change (a pause, a counter) writes its
tokens onto the fresh copy. A revoked grant marks the mailbox ``needs_reauth``."""

from __future__ import annotations

import json
import random
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sendrail.domain.models import Mailbox, MailboxStatus
from sendrail.domain.signing import SignatureError, sign, verify
from sendrail.errors import BadRequest, Conflict, MailboxSendError, ValidationFailed
from sendrail.observability import count, logger
from sendrail.providers import OAUTH, oauth
from sendrail.providers.base import Grant, ProviderConfig, RefreshFailed, RevokedGrant
from sendrail.services import webhooks
from sendrail.services.deps import Deps

STATE = "oauth-state"
STATE_SECONDS = 900
# A token this close to expiry is refreshed before use.
EARLY = timedelta(seconds=60)


def redirect_uri(deps: Deps) -> str:
    return f"{deps.public_base_url.rstrip('/')}/oauth/callback"


# Where the callback may send the browser back to: a page of the dashboard on this same
# origin, never anywhere else (no scheme, no host, no "//", no "..", no backslash).
RETURN_TO = re.compile(r"^/app/(#/[A-Za-z0-9_\-/]*(\?[A-Za-z0-9_\-=&]*)?)?$")


def safe_return(path: str | None) -> str | None:
    """``path`` when it is a same-origin dashboard path (``/app/#/mailboxes``), else None."""
    if path is None or len(path) > 200 or "//" in path or ".." in path:
        return None
    return path if RETURN_TO.fullmatch(path) else None


def authorize_url(
    deps: Deps, config: ProviderConfig, mailbox: Mailbox, return_to: str | None = None
) -> str:
    """The consent link for ``mailbox`` (valid for 15 minutes). ``return_to`` (a checked
    dashboard path, see ``safe_return``) rides in the signed state for the callback."""
    expires = int((deps.clock.now() + timedelta(seconds=STATE_SECONDS)).timestamp())
    claims: dict[str, Any] = {
        "t": mailbox.tenant_id,
        "m": mailbox.id,
        "x": expires,
        "n": secrets.token_hex(8),
    }
    if return_to is not None:
        checked = safe_return(return_to)
        if checked is None:
            raise ValidationFailed(
                "return_to must be a dashboard path such as /app/#/mailboxes",
                details=[{"field": "return_to"}],
            )
        claims["r"] = checked
    state = sign(deps.signing_key, STATE, claims)
    module = oauth(mailbox.provider)
    return str(module.authorize_url(config, state, redirect_uri(deps), mailbox.email))


def return_to(deps: Deps, state: str) -> str | None:
    """The dashboard path a consent link asked to come back to, when its ``state`` verifies
    (also when the provider reports a refusal: the browser still goes back to the page)."""
    try:
        claims = verify(deps.signing_key, STATE, state)
    except SignatureError:
        return None
    back = claims.get("r")
    return safe_return(back) if isinstance(back, str) else None


@dataclass(frozen=True)
class Connected:
    mailbox: Mailbox
    # The dashboard path to send the browser back to (checked again), or None.
    return_to: str | None


def complete(deps: Deps, config: ProviderConfig, code: str, state: str) -> Connected:
    """The provider's redirect back: check the state, exchange the code, store the tokens
    sealed, and make the mailbox ``active``."""
    try:
        claims = verify(deps.signing_key, STATE, state)
    except SignatureError as exc:
        raise BadRequest("the state does not verify: start the connection again") from exc
    if int(claims.get("x", 0)) < deps.clock.now().timestamp():
        raise BadRequest("the consent link has expired: start the connection again")
    mailbox, _ = deps.mailboxes.require(str(claims.get("t")), str(claims.get("m")))
    if mailbox.provider not in OAUTH or mailbox.status is MailboxStatus.ARCHIVED:
        raise BadRequest("this mailbox is not waiting for a connection")
    try:
        grant = oauth(mailbox.provider).exchange(config, code, redirect_uri(deps), deps.clock.now())
    except (RevokedGrant, RefreshFailed) as exc:
        raise BadRequest(f"the provider refused the connection: {exc}") from exc
    saved = _save(deps, mailbox, grant, activate=True)[0]
    return Connected(saved, return_to(deps, state))


def _save(
    deps: Deps, mailbox: Mailbox, grant: Grant, *, activate: bool = False
) -> tuple[Mailbox, bool]:
    """Write the new tokens, conditionally (see the module's docstring). Returns the
    stored mailbox and whether our tokens are the ones stored."""
    sealed = deps.secrets.seal(json.dumps(grant.secret).encode(), mailbox.id)
    base_version = mailbox.token_version
    for _ in range(5):
        current, version = deps.mailboxes.require(mailbox.tenant_id, mailbox.id)
        if not activate and current.token_version != base_version:
            return current, False  # another refresher saved newer tokens first
        update: dict[str, Any] = {
            "secret": sealed,
            "token_expires_at": grant.expires_at,
            "token_version": current.token_version + 1,
            "updated_at": deps.clock.now(),
        }
        if activate:
            update.update(status=MailboxStatus.ACTIVE, pause_reason=None, paused_until=None)
        changed = current.model_copy(update=update)
        try:
            deps.mailboxes.replace(changed, version)
        except Conflict:
            continue
        return changed, True
    raise Conflict("the mailbox keeps changing; try again")


def _open(deps: Deps, mailbox: Mailbox) -> dict[str, Any]:
    if mailbox.secret is None:
        raise RevokedGrant("the mailbox has no tokens")
    value: dict[str, Any] = json.loads(deps.secrets.open(mailbox.secret, mailbox.id))
    return value


def _usable(mailbox: Mailbox, now: datetime) -> bool:
    return mailbox.token_expires_at is not None and mailbox.token_expires_at - EARLY > now


def refresh(deps: Deps, config: ProviderConfig, mailbox: Mailbox) -> tuple[Mailbox, str]:
    """Refresh now; returns the saved mailbox and a fresh access token. Raises
    ``RevokedGrant`` (after marking the mailbox ``needs_reauth``) or ``RefreshFailed``.

    ``mailbox`` is the copy whose token failed or ran out. When another refresher has
    saved newer tokens since that copy was read, those are used: no refresh is spent, and
    the refresh token used is always the newest one stored (Microsoft hands out a new one
    on every use; providers that rotate strictly refuse a spent one as ``invalid_grant``,
    which must not be mistaken for a revoked grant)."""
    current, _ = deps.mailboxes.require(mailbox.tenant_id, mailbox.id)
    if current.token_version != mailbox.token_version and _usable(current, deps.clock.now()):
        return current, str(_open(deps, current)["access_token"])
    return _refresh_stored(deps, config, current)


def _refresh_stored(deps: Deps, config: ProviderConfig, current: Mailbox) -> tuple[Mailbox, str]:
    """Refresh ``current``, a copy just read from the table."""
    try:
        grant = oauth(current.provider).refresh(config, _open(deps, current), deps.clock.now())
    except RevokedGrant as exc:
        needs_reauth(deps, current, str(exc))
        raise
    saved, ours = _save(deps, current, grant)
    if not ours:
        # Another refresher won; its token is as good as ours (and now the stored one).
        return saved, str(_open(deps, saved)["access_token"])
    return saved, grant.access_token


def needs_reauth(deps: Deps, mailbox: Mailbox, reason: str) -> None:
    changed = deps.mailboxes.set_status(
        mailbox.tenant_id,
        mailbox.id,
        MailboxStatus.NEEDS_REAUTH,
        reason=f"reconnect the mailbox: {reason}"[:300],
        now=deps.clock.now(),
        only_if={MailboxStatus.ACTIVE, MailboxStatus.PAUSED},
    )
    if changed:
        webhooks.emit(
            deps,
            mailbox.tenant_id,
            "mailbox_needs_reauth",
            {"mailbox_id": mailbox.id, "email": mailbox.email, "reason": reason[:300]},
        )
        count("MailboxNeedsReauth")
        logger.error(
            "mailbox needs reauthorization",
            extra={
                "alert": "mailbox_needs_reauth",
                "tenant_id": mailbox.tenant_id,
                "mailbox_id": mailbox.id,
                "provider": mailbox.provider.value,
                "reason": reason[:300],
            },
        )


@dataclass
class MailboxTokens:
    """The ``TokenSource`` dispatch hands to a Gmail or Outlook sender: the stored token
    while it is valid; an inline refresh only as a fallback for an expired one (the
    ``token_refresh`` schedule keeps them fresh ahead of time)."""

    deps: Deps
    config: ProviderConfig
    mailbox: Mailbox
    _token: str | None = None

    def access_token(self) -> str:
        now = self.deps.clock.now()
        if self._token is None:
            # The newest token state: Microsoft rotates refresh tokens, so a copy read
            # before the schedule refreshed could hold a spent one.
            found = self.deps.mailboxes.get(self.mailbox.tenant_id, self.mailbox.id)
            if found is not None:
                self.mailbox = found[0]
            try:
                self._token = str(_open(self.deps, self.mailbox)["access_token"])
            except RevokedGrant as exc:
                raise MailboxSendError(str(exc), reason="no_grant", status="needs_reauth") from exc
        if not _usable(self.mailbox, now):
            return self.refresh()
        return self._token

    def refresh(self) -> str:
        try:
            self.mailbox, self._token = refresh(self.deps, self.config, self.mailbox)
        except RevokedGrant as exc:
            raise MailboxSendError(
                f"grant revoked: {exc}", reason="revoked", status="needs_reauth"
            ) from exc
        except RefreshFailed as exc:
            raise MailboxSendError(
                f"token refresh failed: {exc}", reason="refresh_failed", retry_after=300
            ) from exc
        return self._token


@dataclass
class RefreshReport:
    refreshed: int = 0
    revoked: int = 0
    failed: int = 0
    skipped: int = 0


def refresh_due(
    deps: Deps, config: ProviderConfig, margin: timedelta, workers: int = 8, jitter: float = 0.2
) -> RefreshReport:
    """Refresh every token expiring within ``margin``, concurrently, each after a random
    pause of up to ``jitter`` seconds (refreshers started together spread out)."""
    report = RefreshReport()
    due = deps.mailboxes.expiring(deps.clock.now() + margin)

    def one(key: tuple[str, str]) -> str:
        time.sleep(random.uniform(0, jitter))  # noqa: S311 - spreading load, not security
        found = deps.mailboxes.get(*key)
        if found is None:
            return "skipped"
        mailbox, _ = found
        expires = mailbox.token_expires_at
        if expires is None or expires > deps.clock.now() + margin:
            return "skipped"  # someone refreshed it meanwhile
        try:
            _refresh_stored(deps, config, mailbox)  # just read: no second read
        except RevokedGrant:
            return "revoked"
        except (RefreshFailed, Conflict) as exc:
            logger.warning(
                "token refresh failed; the next run tries again",
                extra={"mailbox_id": mailbox.id, "reason": str(exc)[:300]},
            )
            return "failed"
        return "refreshed"

    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(due) or 1))) as pool:
        for outcome in pool.map(one, due):
            setattr(report, outcome, getattr(report, outcome) + 1)
    if report.failed:
        count("TokenRefreshFailed", report.failed)
    return report
