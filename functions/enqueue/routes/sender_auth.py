"""A mailbox's sender authentication: SPF, DKIM, DMARC and MX of its domain, from DNS."""

from __future__ import annotations

from typing import Literal

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field
from sendrail.services import mailboxes
from sendrail.services.auth import READ

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.wiring import deps, dns_config, settings

router = APIGatewayRouter()

Failure = Literal["dns_error", "timeout"]


class SpfCheck(ApiModel):
    status: (
        Literal[
            "ok",
            "missing",
            "not_authorized",
            "unverified",
            "too_permissive",
            "multiple_records",
            "too_many_lookups",
            "invalid",
        ]
        | Failure
    ) = Field(
        description="`ok`; `missing` (no SPF record); `not_authorized` (the record does not "
        "include the mailbox's provider: `_spf.google.com`, `spf.protection.outlook.com`, "
        "`amazonses.com`); `unverified` (a record exists, but whether it covers the "
        "mailbox's own SMTP server could not be told); `too_permissive` (`+all` or `?all`); "
        "`multiple_records`; `too_many_lookups` (over RFC 7208's 10); `invalid` (terms that "
        "do not parse); `dns_error` (SERVFAIL, refused); `timeout`"
    )
    record: str | None
    lookups: int | None = Field(default=None, description="DNS lookups the record needs")


class DkimSelectorCheck(ApiModel):
    selector: str
    status: Literal["found", "missing", "revoked"] | Failure


class DkimCheck(ApiModel):
    status: Literal["ok", "missing", "revoked"] | Failure = Field(
        description="`ok` (a public key under one of the probed selectors: the provider's "
        "own — `google`; `selector1`/`selector2` for Microsoft — and the mailbox's "
        "`dkim_selectors`); `missing`; `revoked` (only empty `p=` keys); `dns_error`; "
        "`timeout`"
    )
    selectors: list[DkimSelectorCheck]


class DmarcAlignment(ApiModel):
    dkim: bool
    spf: bool


class DmarcCheck(ApiModel):
    status: Literal["ok", "monitoring", "missing", "invalid"] | Failure = Field(
        description="`ok` (`p=quarantine` or `p=reject`); `monitoring` (`p=none`); "
        "`missing`; `invalid`; `dns_error`; `timeout`"
    )
    policy: Literal["none", "quarantine", "reject"] | None
    record: str | None
    found_at: str | None = Field(
        default=None, description="the record's name (the organizational domain's for a subdomain)"
    )
    adkim: Literal["r", "s"] | None = None
    aspf: Literal["r", "s"] | None = None
    pct: int | None = None
    rua: list[str] | None = None
    aligned: bool = Field(
        description="whether mail from this mailbox would pass DMARC: an aligned DKIM key "
        "found, or SPF authorising the provider for an envelope sender in the domain"
    )
    alignment: DmarcAlignment


class MxHostView(ApiModel):
    preference: int
    host: str


class MxCheck(ApiModel):
    status: Literal["ok", "missing"] | Failure
    hosts: list[MxHostView]


class AuthAdvice(ApiModel):
    code: str
    message: str


class Authentication(ApiModel):
    domain: str
    spf: SpfCheck
    dkim: DkimCheck
    dmarc: DmarcCheck
    mx: MxCheck
    advice: list[AuthAdvice]
    checked_at: str = Field(description="when DNS was read")
    cached: bool = Field(description="true when served from the cache (at most an hour old)")


@router.get(
    "/api/mailboxes/<mailbox_id>/authentication",
    summary="Sender authentication: SPF, DKIM, DMARC and MX of the mailbox's domain",
    description=(
        "Read from live DNS and cached for an hour per mailbox (five minutes when a lookup "
        "failed); a DNS failure is a status (`dns_error`, `timeout`), never an error "
        "response. `/api/queue/servers` shows the cached DMARC alignment of each mailbox."
    ),
    tags=["mailboxes"],
)
def authentication(mailbox_id: str) -> Authentication:
    # The DNS client and the record parsers load with the first check, not at cold start.
    from sendrail.providers.dns_lookup import DnsLookup  # noqa: PLC0415
    from sendrail.services import sender_auth  # noqa: PLC0415

    _, tenant_id = tenant(router, READ)
    mailbox, _ = mailboxes.get(deps(), tenant_id, mailbox_id)
    config = dns_config()
    result = sender_auth.check(
        deps(), mailbox, lambda: DnsLookup(config), settings().dns_cache_seconds
    )
    return Authentication.model_validate(result)
