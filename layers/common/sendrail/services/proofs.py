"""A campaign's preview and its proofs (test sends), made by dispatch's own code.

- The message is dispatch's: ``services.personalise`` then ``domain.compose``, for the
  recipient asked for (an imported one by address, or ad-hoc ``data`` at a placeholder
  address, or else the campaign's first recipient), from the mailbox asked for or the
  campaign's first usable one. Its tokens are marked as tests (``domain.tracking``): the
  links work, the footer and headers are there, and nothing a preview or a proof does is
  recorded (no open, click or unsubscribe counts into the campaign, nobody is suppressed).
- A preview is read back from the very bytes a provider would be handed
  (``domain.mime.read_back``), so its subject, bodies and headers are what a reader sees.
- Proofs are sent at once through one mailbox, their units reserved first on every limit
  a campaign send takes (the mailbox's, its sender domain's, the recipient domain's, the
  tenant's) by dispatch's reservation steps, all or none; they count on the mailbox's day
  (``sent``), never in the campaign's stats, and write no recipient row."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sendrail.clock import to_rfc3339
from sendrail.domain import recipient_data
from sendrail.domain.addresses import InvalidAddress, normalize
from sendrail.domain.compose import FieldTemplateError, compose
from sendrail.domain.limits import Rules
from sendrail.domain.mime import OutgoingMessage, ReadBack, read_back
from sendrail.domain.models import Campaign, Mailbox, MailboxStatus, Provider, Recipient
from sendrail.domain.planning import Demand
from sendrail.errors import (
    Conflict,
    NotFound,
    ProofNotSent,
    SendError,
    SendingLimitReached,
    SuppressedAddress,
    UnknownRecipient,
    ValidationFailed,
)
from sendrail.ids import new_secret
from sendrail.providers.base import Sender
from sendrail.services import capacity
from sendrail.services.capacity import TenantPolicy
from sendrail.services.deps import Deps
from sendrail.services.dispatch.ports import SenderSource
from sendrail.services.dispatch.reservation import (
    mailbox_option,
    release,
    reserve_all,
    shared_subjects,
)
from sendrail.services.dispatch.work import Units
from sendrail.services.personalise import personaliser
from sendrail.services.provider_quotas import SesAccount, SesAccountQuota
from sendrail.storage import stats

PLACEHOLDER_EMAIL = "recipient@example.com"  # whom ad-hoc data (or an empty campaign) is for
PLACEHOLDER_FROM = "sender@example.com"  # the From of a preview while no mailbox can send
MAX_PROOFS = 5
TEST_PREFIX = "[Test] "


def recipient_for(
    deps: Deps, campaign: Campaign, email: str | None, data: Mapping[str, Any] | None
) -> Recipient:
    """Whom to render for: the imported recipient ``email`` (:class:`UnknownRecipient`
    when the campaign has none), ad-hoc ``data`` at :data:`PLACEHOLDER_EMAIL`, or (neither)
    the campaign's first recipient, or nobody (empty data)."""
    if email is not None and data is not None:
        raise ValidationFailed(
            "send email (an imported recipient) or data (ad-hoc merge fields), not both",
            details=[{"field": "email"}, {"field": "data"}],
        )
    now = deps.clock.now()
    if email is not None:
        try:
            key = normalize(email)
        except InvalidAddress as exc:
            raise ValidationFailed(
                f"email: {exc}", details=[{"field": "email", "reason": str(exc)}]
            ) from None
        found = deps.recipients.get(campaign.id, key)
        if found is None or found.tenant_id != campaign.tenant_id:
            raise UnknownRecipient(
                f"{key} is not a recipient of this campaign",
                details=[{"field": "email", "reason": "not a recipient of this campaign"}],
            )
        return found
    if data is None:
        first, _ = deps.recipients.page(campaign.id, limit=1)
        if first:
            return first[0]
    values = {str(k)[:128]: v for k, v in (data or {}).items()}
    problem = recipient_data.problem(values)
    if problem is not None:
        raise ValidationFailed(problem, details=[{"field": "data", "reason": problem}])
    return Recipient(
        campaign_id=campaign.id,
        email=PLACEHOLDER_EMAIL,
        tenant_id=campaign.tenant_id,
        data=values,
        created_at=now,
        updated_at=now,
    )


def _mailbox(deps: Deps, campaign: Campaign, mailbox_id: str | None) -> Mailbox | None:
    """The mailbox asked for (:class:`NotFound` when the tenant has none by that id), or
    the campaign's first usable one (None when it has none)."""
    if mailbox_id is not None:
        found = deps.mailboxes.get(campaign.tenant_id, mailbox_id)
        if found is None:
            raise NotFound(
                "no such mailbox", details=[{"field": "mailbox_id", "reason": "not found"}]
            )
        return found[0]
    usable = capacity.pool(campaign, deps.mailboxes.all_for_tenant(campaign.tenant_id))
    return usable[0] if usable else None


def message_for(
    deps: Deps, campaign: Campaign, recipient: Recipient, mailbox: Mailbox
) -> OutgoingMessage:
    """The message dispatch would send ``recipient`` from ``mailbox``, its tokens marked as
    tests. A template that fails for this recipient: :class:`ValidationFailed` naming the
    campaign's field (``subject``, ``html`` or ``text``)."""
    settings = deps.settings.sending(campaign.tenant_id)
    personalise = personaliser(deps.signing_key, deps.tracking_base_url, test=True)
    try:
        return compose(
            campaign,
            recipient,
            mailbox,
            deps.clock.now(),
            personalise(campaign, recipient, mailbox, settings),
        )
    except FieldTemplateError as exc:
        raise ValidationFailed(
            f"the campaign's {exc.field} does not render for {recipient.email}: {exc}",
            details=[{"field": exc.field, "reason": str(exc)}],
        ) from None


@dataclass(frozen=True)
class Preview:
    message: ReadBack
    mailbox_id: str | None  # None: no mailbox can send it yet (the From is a placeholder)
    recipient: str


def preview(
    deps: Deps,
    campaign: Campaign,
    *,
    email: str | None = None,
    data: Mapping[str, Any] | None = None,
    mailbox_id: str | None = None,
) -> Preview:
    recipient = recipient_for(deps, campaign, email, data)
    mailbox = _mailbox(deps, campaign, mailbox_id)
    sender = mailbox or _placeholder_mailbox(campaign, deps)
    message = message_for(deps, campaign, recipient, sender)
    return Preview(read_back(message.as_bytes()), mailbox.id if mailbox else None, recipient.email)


def _placeholder_mailbox(campaign: Campaign, deps: Deps) -> Mailbox:
    now = deps.clock.now()
    return Mailbox(
        id="preview",
        tenant_id=campaign.tenant_id,
        provider=Provider.SMTP,
        email=PLACEHOLDER_FROM,
        created_at=now,
        updated_at=now,
    )


@dataclass(frozen=True)
class Proofs:
    mailbox_id: str
    to: list[str]
    subject: str


def _addresses(to: list[str]) -> list[str]:
    if not 1 <= len(to) <= MAX_PROOFS:
        raise ValidationFailed(
            f"send proofs to 1 to {MAX_PROOFS} addresses",
            details=[{"field": "to", "reason": f"1 to {MAX_PROOFS} addresses"}],
        )
    out: list[str] = []
    for index, address in enumerate(to):
        try:
            key = normalize(address)
        except InvalidAddress as exc:
            raise ValidationFailed(
                f"to.{index}: {exc}", details=[{"field": f"to.{index}", "reason": str(exc)}]
            ) from None
        if key not in out:
            out.append(key)
    return out


def send_proofs(
    deps: Deps,
    campaign: Campaign,
    to: list[str],
    senders: SenderSource,
    *,
    mailbox_id: str | None = None,
    email: str | None = None,
    data: Mapping[str, Any] | None = None,
    ses_account: SesAccountQuota | None = None,
    ses_region: str = "",
) -> Proofs:
    """Send the campaign's message, rendered for the recipient :func:`recipient_for`
    chooses and subject prefixed with :data:`TEST_PREFIX`, to each address of ``to`` now.

    Refused before anything is sent: a suppressed address (:class:`SuppressedAddress`), no
    usable mailbox or a paused one (:class:`Conflict`), a limit with no room for all of
    them (:class:`SendingLimitReached`, with ``retry_at``). A provider failure:
    :class:`ProofNotSent` (the units of the proofs it did not try are given back)."""
    addresses = _addresses(to)
    suppressed = deps.suppressions.which((campaign.tenant_id, a) for a in addresses)
    if suppressed:
        refused = [a for a in addresses if (campaign.tenant_id, a) in suppressed]
        raise SuppressedAddress(
            f"suppressed, not sent: {', '.join(refused)}",
            details=[
                {"field": f"to.{i}", "email": a, "reason": "suppressed"}
                for i, a in enumerate(addresses)
                if a in refused
            ],
        )
    recipient = recipient_for(deps, campaign, email, data)
    mailbox = _mailbox(deps, campaign, mailbox_id)
    if mailbox is None:
        raise Conflict(
            "the campaign has no usable mailbox: name one with mailbox_id",
            details=[{"field": "mailbox_id", "reason": "no active mailbox in the campaign's pool"}],
        )
    if mailbox.status is not MailboxStatus.ACTIVE:
        raise Conflict(
            f"mailbox {mailbox.id} is {mailbox.status.value}: it cannot send",
            details=[{"field": "mailbox_id", "reason": mailbox.status.value}],
        )
    messages = [
        _proof(message_for(deps, campaign, _as(recipient, a), mailbox), a) for a in addresses
    ]
    ses = ses_account() if ses_account and mailbox.provider is Provider.SES else None
    units = _reserve(deps, campaign, mailbox, addresses, ses, ses_region)
    taken_at = deps.clock.now()
    sent = tried = 0
    sender: Sender | None = None
    try:
        sender = senders.open(mailbox)
        for message in messages:
            tried += 1  # units taken for a send that fails still count: the provider saw it
            sender.send(message)
            sent += 1
    except (SendError, OSError, ValueError) as exc:  # what dispatch classifies, or not
        release(deps.limits, deps.clock, [u for p in units[tried:] for u in p], taken_at)
        reason = exc.reason if isinstance(exc, SendError) else type(exc).__name__
        said = exc.message if isinstance(exc, SendError) else str(exc)[:300]
        raise ProofNotSent(
            f"mailbox {mailbox.id} did not send the proof to {addresses[sent]}: {said}",
            details=[{"sent": addresses[:sent], "failed": addresses[sent], "reason": reason}],
        ) from None
    finally:
        if sent:
            now = deps.clock.now()
            deps.stats.add(stats.mailbox_key(mailbox.id), stats.day_bucket(now), {"sent": sent})
        if sender is not None:
            sender.close()
    return Proofs(mailbox.id, addresses, messages[0].subject)


def _as(recipient: Recipient, address: str) -> Recipient:
    """The recipient's data, addressed to a proof's address; its Message-ID is its own, so
    a reply to a proof is never taken for a recipient's."""
    return recipient.model_copy(update={"email": address, "message_id": None})


def _proof(message: OutgoingMessage, address: str) -> OutgoingMessage:
    domain = message.from_email.rsplit("@", 1)[-1]
    return dataclasses.replace(
        message,
        subject=TEST_PREFIX + message.subject,
        message_id=f"<test.{new_secret(12)}@{domain}>",
    )


def _reserve(
    deps: Deps,
    campaign: Campaign,
    mailbox: Mailbox,
    addresses: list[str],
    ses: SesAccount | None = None,
    ses_region: str = "",
) -> list[tuple[Units, ...]]:
    """Reserve one unit per proof on every subject a campaign send from ``mailbox`` to
    that address takes, all or none (dispatch's reservation steps); the units of each
    proof, in order."""
    policy = TenantPolicy.build(
        campaign.tenant_id,
        deps.settings.sending(campaign.tenant_id),
        deps.settings.throttles(campaign.tenant_id),
    )
    rules: dict[str, Rules] = {}
    option = mailbox_option(
        mailbox, policy, deps.stats, deps.clock.now(), rules, None, ses, ses_region
    )
    demands = [
        Demand(f"proof#{a}", (option,), shared_subjects(policy, a, rules)) for a in addresses
    ]
    units, retry_at = reserve_all(deps.limits, deps.clock, demands, rules)
    if retry_at is not None:
        raise SendingLimitReached(
            f"no room for {len(addresses)} proof(s) within mailbox {mailbox.id}'s limits "
            "(or its domain's or the tenant's) now",
            details=[{"mailbox_id": mailbox.id, "retry_at": to_rfc3339(retry_at)}],
        )
    return units
