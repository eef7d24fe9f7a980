"""Checking that a mailbox can send, without sending (``POST /api/mailboxes/{id}/verify``).

SMTP: connect (through the egress guard), STARTTLS or TLS, AUTH, MAIL FROM then RSET.
SES: the sender's identity verified and the account's sending enabled. Gmail and Outlook:
an access token (refreshed if it has expired) and a profile call naming the same address.
Run on create and whenever credentials change; the outcome is kept on the mailbox as
``last_verified_at`` (when it last ran) and ``verify_error`` (None when it passed).
Details are ours: never a secret, never a server's text beyond status codes."""

from __future__ import annotations

from dataclasses import dataclass

from sendrail.domain.models import Mailbox, Provider
from sendrail.errors import Conflict, MailboxSendError
from sendrail.observability import logger
from sendrail.providers.base import ProviderConfig, Step
from sendrail.services.deps import Deps


@dataclass(frozen=True)
class Verification:
    ok: bool
    steps: list[Step]

    @property
    def error(self) -> str | None:
        failed = next((s for s in self.steps if not s.ok), None)
        return None if failed is None else f"{failed.step}: {failed.detail}"[:300]


def check(deps: Deps, config: ProviderConfig, mailbox: Mailbox) -> Verification:
    """Run the provider's checks for ``mailbox`` (nothing is saved)."""
    if mailbox.provider is Provider.SMTP:
        from sendrail.providers import smtp  # noqa: PLC0415 - lazy, like every provider

        secret = deps.secrets.open(mailbox.secret, mailbox.id) if mailbox.secret else None
        steps = smtp.verify(mailbox, secret, config)
    elif mailbox.provider is Provider.SES:
        from sendrail.providers import ses  # noqa: PLC0415

        steps = ses.verify(mailbox, config)
    else:  # Gmail and Outlook
        steps = _oauth_steps(deps, config, mailbox)
    return Verification(ok=bool(steps) and all(s.ok for s in steps), steps=steps)


def _oauth_steps(deps: Deps, config: ProviderConfig, mailbox: Mailbox) -> list[Step]:
    from sendrail.providers import open_sender  # noqa: PLC0415
    from sendrail.services.oauth import MailboxTokens  # noqa: PLC0415

    if mailbox.secret is None:
        return [Step("token", ok=False, detail="not connected yet: open the consent link")]
    tokens = MailboxTokens(deps, config, mailbox)
    try:
        tokens.access_token()
    except MailboxSendError as exc:
        return [Step("token", ok=False, detail=_token_problem(exc))]
    steps = [Step("token", ok=True, detail="access token valid")]
    sender = open_sender(mailbox, None, config, tokens)
    try:
        account = sender.profile()  # type: ignore[attr-defined]
    except MailboxSendError as exc:
        steps.append(Step("profile", ok=False, detail=_token_problem(exc)))
        return steps
    except OSError as exc:  # our own text: the HTTP status or the error's type
        steps.append(Step("profile", ok=False, detail=str(exc)[:120]))
        return steps
    except Exception as exc:  # noqa: BLE001 - a client library's own errors (httplib2, msal)
        steps.append(Step("profile", ok=False, detail=f"call failed ({type(exc).__name__})"))
        return steps
    finally:
        sender.close()
    if account.lower() != mailbox.email.lower():
        steps.append(Step("profile", ok=False, detail="the grant belongs to another account"))
    else:
        steps.append(Step("profile", ok=True, detail="the grant is for this address"))
    return steps


def _token_problem(exc: MailboxSendError) -> str:
    if exc.status == "needs_reauth":
        return "the grant was revoked or has expired: reconnect the mailbox"
    return "the token could not be refreshed now; try again later"


def verify(deps: Deps, config: ProviderConfig, tenant_id: str, mailbox_id: str) -> Verification:
    """Check the mailbox and keep the outcome on it."""
    mailbox, _ = deps.mailboxes.require(tenant_id, mailbox_id)
    result = check(deps, config, mailbox)
    record(deps, tenant_id, mailbox_id, result)
    logger.info(
        "mailbox verified",
        extra={"mailbox_id": mailbox_id, "ok": result.ok, "failed_step": result.error},
    )
    return result


def record(deps: Deps, tenant_id: str, mailbox_id: str, result: Verification) -> Mailbox:
    """Save ``last_verified_at`` and ``verify_error`` onto the newest copy of the mailbox."""
    for _ in range(5):
        mailbox, version = deps.mailboxes.require(tenant_id, mailbox_id)
        changed = mailbox.model_copy(
            update={"last_verified_at": deps.clock.now(), "verify_error": result.error}
        )
        try:
            deps.mailboxes.replace(changed, version)
        except Conflict:
            continue
        return changed
    raise Conflict("the mailbox changed meanwhile; verify it again")
