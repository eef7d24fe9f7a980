"""Mailbox use cases: connect, change, pause/resume, archive."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from sendrail.domain import hosts
from sendrail.domain.addresses import InvalidAddress, normalize
from sendrail.domain.email_str import EmailStr
from sendrail.domain.headers import check_value
from sendrail.domain.models import (
    MAX_CONNECTIONS,
    MAX_DKIM_SELECTORS,
    Count,
    DkimSelector,
    ImapSettings,
    Mailbox,
    MailboxStatus,
    Provider,
    RateLimit,
    SmtpSettings,
    Warmup,
)
from sendrail.domain.windows import zone
from sendrail.errors import Conflict, ValidationFailed
from sendrail.ids import new_id
from sendrail.providers import OAUTH, SUPPORTED
from sendrail.services import webhooks
from sendrail.services.deps import Deps
from sendrail.services.provider_quotas import SesAccountQuota, check_daily_limit

Tag = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[\w.:-]+$")]


def _checked_host(value: str) -> str:
    # A host name or an IP literal, nothing else (no URL, port, spaces, CR/LF). Stored
    # mailboxes are not re-validated on read; the connect-time guard refuses them.
    return hosts.check_host(value)


class SmtpInput(SmtpSettings):
    password: SecretStr | None = Field(default=None, max_length=1024)

    _host = field_validator("host")(_checked_host)


class ImapInput(ImapSettings):
    password: SecretStr | None = Field(default=None, max_length=1024)

    _host = field_validator("host")(_checked_host)


def check_hosts(
    given: dict[str, SmtpSettings | ImapSettings | None], *, allow_private_hosts: bool
) -> None:
    """What can be known before resolving: an address literal in a forbidden range,
    ``localhost`` or a metadata name is refused now (the connect-time guard checks what a
    name resolves to). ``given``: the settings by field name (``smtp``, ``imap``)."""
    for name, server in given.items():
        if server is None:
            continue
        kind = hosts.classify_name(server.host)
        if hosts.refused(kind, allow_private=allow_private_hosts):
            raise ValidationFailed(
                f"{name}.host is a {kind} address, which mailboxes may not use",
                details=[{"field": f"{name}.host", "reason": f"{kind} address refused"}],
            )


class MailboxFields(BaseModel):
    """Fields a client may set on create and change with PATCH."""

    model_config = ConfigDict(extra="forbid")

    from_name: str | None = Field(default=None, max_length=200)
    daily_limit: Count | None = None
    hourly_limit: Count | None = None
    rate_limit: RateLimit | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    warmup: Warmup | None = None
    timezone: str | None = None
    smtp: SmtpInput | None = None
    imap: ImapInput | None = None
    ses_configuration_set: str | None = Field(default=None, max_length=64)
    max_connections: int | None = Field(default=None, ge=1, le=MAX_CONNECTIONS)
    # Extra DKIM selectors for ``GET /api/mailboxes/{id}/authentication`` to probe (SES Easy
    # DKIM's tokens, a relay's own selector).
    dkim_selectors: list[DkimSelector] | None = Field(default=None, max_length=MAX_DKIM_SELECTORS)

    @field_validator("from_name")
    @classmethod
    def _no_crlf(cls, value: str | None) -> str | None:
        return check_value(value) if value is not None else None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value


class MailboxCreate(MailboxFields):
    provider: Provider
    email: EmailStr


# Providers that may send over parallel connections: Gmail and Microsoft throttle or
# block an account that opens several at once.
PARALLEL_PROVIDERS = frozenset({Provider.SMTP, Provider.SES})


def _check_connections(provider: Provider, max_connections: int | None) -> None:
    if max_connections not in (None, 1) and provider not in PARALLEL_PROVIDERS:
        raise ValidationFailed(
            f"a {provider.value} mailbox sends over one connection",
            details=[{"field": "max_connections", "reason": "only smtp and ses mailboxes"}],
        )


def _secret_payload(smtp: SmtpInput | ImapInput | None) -> bytes | None:
    if smtp is None or smtp.password is None:
        return None
    return json.dumps({"password": smtp.password.get_secret_value()}).encode()


def _imap_fields(
    deps: Deps, provider: Provider, mailbox_id: str, imap: ImapInput
) -> dict[str, Any]:
    """``imap`` and its sealed password, for an SMTP mailbox."""
    if provider is not Provider.SMTP:
        raise ValidationFailed(
            "only an smtp mailbox is read over IMAP",
            details=[{"field": "imap", "reason": "only smtp mailboxes"}],
        )
    fields: dict[str, Any] = {"imap": ImapSettings(**imap.model_dump(exclude={"password"}))}
    payload = _secret_payload(imap)
    if payload is not None:
        fields["imap_secret"] = deps.secrets.seal(payload, mailbox_id)
    return fields


def create(
    deps: Deps,
    tenant_id: str,
    spec: MailboxCreate,
    ses_account: SesAccountQuota | None = None,
    *,
    allow_private_hosts: bool = False,
) -> Mailbox:
    if spec.provider not in SUPPORTED:
        raise ValidationFailed(
            f"provider {spec.provider.value} cannot be connected yet",
            details=[{"field": "provider", "reason": "not available"}],
        )
    if spec.provider is Provider.SMTP and spec.smtp is None:
        raise ValidationFailed(
            "an smtp mailbox needs smtp settings", details=[{"field": "smtp", "reason": "required"}]
        )
    _check_connections(spec.provider, spec.max_connections)
    check_hosts({"smtp": spec.smtp, "imap": spec.imap}, allow_private_hosts=allow_private_hosts)
    try:
        email = normalize(str(spec.email))
    except InvalidAddress as exc:
        raise ValidationFailed(str(exc), details=[{"field": "email"}]) from exc
    now = deps.clock.now()
    mailbox_id = new_id("mbx", now)
    fields = spec.model_dump(exclude={"provider", "email", "smtp", "imap"}, exclude_none=True)
    if spec.imap is not None:
        fields.update(_imap_fields(deps, spec.provider, mailbox_id, spec.imap))
    mailbox = Mailbox(
        id=mailbox_id,
        tenant_id=tenant_id,
        provider=spec.provider,
        email=email,
        smtp=SmtpSettings(**spec.smtp.model_dump(exclude={"password"})) if spec.smtp else None,
        # Gmail and Outlook wait for the user's consent (``authorize_url``).
        status=MailboxStatus.PENDING_AUTH if spec.provider in OAUTH else MailboxStatus.ACTIVE,
        warmup_started_at=now if spec.warmup else None,
        created_at=now,
        updated_at=now,
        **fields,
    )
    check_daily_limit(mailbox, ses_account)
    payload = _secret_payload(spec.smtp)
    if payload is not None:
        mailbox = mailbox.model_copy(update={"secret": deps.secrets.seal(payload, mailbox_id)})
    deps.mailboxes.create(mailbox)
    return mailbox


def get(deps: Deps, tenant_id: str, mailbox_id: str) -> tuple[Mailbox, int]:
    return deps.mailboxes.require(tenant_id, mailbox_id)


def update(
    deps: Deps,
    tenant_id: str,
    mailbox_id: str,
    changes: MailboxFields,
    ses_account: SesAccountQuota | None = None,
    *,
    allow_private_hosts: bool = False,
) -> Mailbox:
    mailbox, version = get(deps, tenant_id, mailbox_id)
    if mailbox.status is MailboxStatus.ARCHIVED:
        raise Conflict("an archived mailbox cannot be changed")
    given: dict[str, Any] = {
        k: getattr(changes, k) for k in changes.model_fields_set if k not in {"smtp", "imap"}
    }
    if "imap" in changes.model_fields_set:
        if changes.imap is None:
            given.update(imap=None, imap_secret=None)
        else:
            given.update(_imap_fields(deps, mailbox.provider, mailbox.id, changes.imap))
    _check_connections(mailbox.provider, changes.max_connections)
    if "timezone" in given and given["timezone"] is None:
        raise ValidationFailed(
            "timezone cannot be removed; give an IANA name such as UTC",
            details=[{"field": "timezone", "reason": "null"}],
        )
    check_hosts(
        {"smtp": changes.smtp, "imap": changes.imap}, allow_private_hosts=allow_private_hosts
    )
    if "daily_limit" in given and given["daily_limit"] is None:
        given["daily_limit"] = 0
    for name in ("tags", "dkim_selectors"):
        if name in given and given[name] is None:
            given[name] = []
    if "warmup" in given and given["warmup"] is not None and mailbox.warmup is None:
        given["warmup_started_at"] = deps.clock.now()
    if "smtp" in changes.model_fields_set and changes.smtp is not None:
        given["smtp"] = SmtpSettings(**changes.smtp.model_dump(exclude={"password"}))
        payload = _secret_payload(changes.smtp)
        if payload is not None:
            given["secret"] = deps.secrets.seal(payload, mailbox.id)
    updated = mailbox.model_copy(update={**given, "updated_at": deps.clock.now()})
    Mailbox.model_validate(updated.model_dump())  # re-check invariants
    if "daily_limit" in given or "smtp" in given:
        check_daily_limit(updated, ses_account)
    deps.mailboxes.replace(updated, version)
    return updated


def pause(deps: Deps, tenant_id: str, mailbox_id: str, reason: str | None = None) -> Mailbox:
    mailbox, _ = get(deps, tenant_id, mailbox_id)
    if mailbox.status is MailboxStatus.ARCHIVED:
        raise Conflict("an archived mailbox cannot be paused")
    deps.mailboxes.set_status(
        tenant_id,
        mailbox_id,
        MailboxStatus.PAUSED,
        reason=reason or "paused by user",
        now=deps.clock.now(),
    )
    if mailbox.status is not MailboxStatus.PAUSED:
        data = {"mailbox_id": mailbox_id, "reason": reason or "paused by user"}
        webhooks.emit(deps, tenant_id, "mailbox_paused", data)
    return get(deps, tenant_id, mailbox_id)[0]


def resume(deps: Deps, tenant_id: str, mailbox_id: str) -> Mailbox:
    mailbox, _ = get(deps, tenant_id, mailbox_id)
    if mailbox.status not in (MailboxStatus.PAUSED, MailboxStatus.ACTIVE):
        raise Conflict(f"a mailbox in status {mailbox.status.value} cannot be resumed")
    deps.mailboxes.set_status(
        tenant_id, mailbox_id, MailboxStatus.ACTIVE, reason=None, now=deps.clock.now()
    )
    return get(deps, tenant_id, mailbox_id)[0]


def archive(deps: Deps, tenant_id: str, mailbox_id: str) -> Mailbox:
    """Archive: it sends nothing more; queued mail is placed on the other mailboxes by
    dispatch (recipients are never bound to a mailbox before their claim)."""
    get(deps, tenant_id, mailbox_id)
    deps.mailboxes.set_status(
        tenant_id, mailbox_id, MailboxStatus.ARCHIVED, reason="archived", now=deps.clock.now()
    )
    return get(deps, tenant_id, mailbox_id)[0]


def normalise_email(address: str) -> str:
    try:
        return normalize(address)
    except InvalidAddress as exc:
        raise ValidationFailed(str(exc), details=[{"field": "email"}]) from exc


def stats(deps: Deps, tenant_id: str, mailbox_id: str, days: int = 30) -> dict[str, Any]:
    """Sent/failed/bounced/complained today and per day (UTC) over ``days`` days, with
    rates over that span and the current error streak."""
    from datetime import timedelta  # noqa: PLC0415

    from sendrail.storage import stats as keys  # noqa: PLC0415

    mailbox, _ = get(deps, tenant_id, mailbox_id)
    now = deps.clock.now()
    first = now - timedelta(days=days - 1)
    rows = dict(
        deps.stats.range(keys.mailbox_key(mailbox_id), keys.day_bucket(first), keys.day_bucket(now))
    )
    names = ("sent", "failed", "bounced", "complained")
    series: list[dict[str, Any]] = []
    totals = dict.fromkeys(names, 0)
    for bucket in keys.day_buckets(first, now):
        values = rows.get(bucket, {})
        day = {n: values.get(n, 0) for n in names}
        for n in names:
            totals[n] += day[n]
        series.append({"date": bucket[2:], **day})
    sent = totals["sent"]
    return {
        "id": mailbox.id,
        "status": mailbox.status.value,
        "today": series[-1],
        "days": series,
        "totals": totals,
        "bounce_rate": round(totals["bounced"] / sent, 4) if sent else 0.0,
        "complaint_rate": round(totals["complained"] / sent, 4) if sent else 0.0,
        "consecutive_errors": mailbox.consecutive_errors,
    }
