from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field
from sendrail.domain.models import Mailbox, MailboxStatus, Provider
from sendrail.errors import Conflict, ValidationFailed
from sendrail.providers import OAUTH
from sendrail.services import mailboxes, oauth, verify
from sendrail.services.auth import READ, WRITE
from sendrail.services.mailboxes import MailboxCreate, MailboxFields
from sendrail.storage.codec import decode_cursor

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.schemas import MailboxView, Page, page, respond
from functions.enqueue.wiring import deps, providers, ses_account

router = APIGatewayRouter()


class PauseRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=300)


@router.post(
    "/api/mailboxes",
    summary="Connect a sending mailbox",
    tags=["mailboxes"],
    responses={
        201: {"description": "created", "content": {"application/json": {"model": MailboxView}}}
    },
)
def create(body: MailboxCreate) -> Response[MailboxView]:
    _, tenant_id = tenant(router, WRITE)
    if body.provider in OAUTH:
        _configured(body.provider)
    mailbox = mailboxes.create(
        deps(), tenant_id, body, ses_account, allow_private_hosts=providers().allow_private_hosts
    )
    if mailbox.provider not in OAUTH:  # Gmail and Outlook are checked once consent is given
        # The mailbox exists whatever the check finds: ``verify_error`` says what failed.
        verify.verify(deps(), providers(), tenant_id, mailbox.id)
        mailbox = mailboxes.get(deps(), tenant_id, mailbox.id)[0]
    link = oauth.authorize_url(deps(), providers(), mailbox) if mailbox.provider in OAUTH else None
    return respond(201, _view(mailbox, authorize_url=link))


def _view(m: Mailbox, authorize_url: str | None = None) -> MailboxView:
    ses = ses_account() if m.provider is Provider.SES else None
    return MailboxView.of(m, authorize_url=authorize_url, ses=ses)


def _configured(provider: Provider) -> None:
    config = providers()
    client = config.google_client_id if provider is Provider.GMAIL else config.microsoft_client_id
    if not client:
        raise ValidationFailed(
            f"{provider.value} is not configured on this deployment (no OAuth client)",
            details=[{"field": "provider", "reason": "not configured"}],
        )


class ConnectRequest(ApiModel):
    model_config = ConfigDict(extra="forbid")

    return_to: str | None = Field(
        default=None,
        max_length=200,
        description="a dashboard path on this origin (`/app/#/mailboxes`): after consent the "
        "callback sends the browser there (303) instead of showing its own page",
    )


@router.post(
    "/api/mailboxes/<mailbox_id>/connect",
    summary="A new consent link for a Gmail or Outlook mailbox",
    description="For a mailbox waiting for consent or marked `needs_reauth`: open "
    "`authorize_url` in a browser; the provider returns to `/oauth/callback`.",
    tags=["mailboxes"],
)
def connect(mailbox_id: str, body: ConnectRequest | None = None) -> MailboxView:
    _, tenant_id = tenant(router, WRITE)
    mailbox, _ = mailboxes.get(deps(), tenant_id, mailbox_id)
    if mailbox.provider not in OAUTH:
        raise ValidationFailed(
            "only gmail and outlook mailboxes connect by consent",
            details=[{"field": "provider"}],
        )
    if mailbox.status is MailboxStatus.ARCHIVED:
        raise Conflict("an archived mailbox cannot be connected")
    _configured(mailbox.provider)
    back = body.return_to if body else None
    link = oauth.authorize_url(deps(), providers(), mailbox, return_to=back)
    return _view(mailbox, authorize_url=link)


@router.get("/api/mailboxes", summary="List mailboxes", tags=["mailboxes"])
def list_all(
    limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: Annotated[str | None, Query()] = None
) -> Page[MailboxView]:
    _, tenant_id = tenant(router, READ)
    items, last = deps().mailboxes.page(tenant_id, limit, decode_cursor(cursor))
    return Page[MailboxView].model_validate(page([_view(m) for m in items], last))


@router.get("/api/mailboxes/<mailbox_id>", summary="One mailbox", tags=["mailboxes"])
def get_one(mailbox_id: str) -> MailboxView:
    _, tenant_id = tenant(router, READ)
    return _view(mailboxes.get(deps(), tenant_id, mailbox_id)[0])


@router.patch(
    "/api/mailboxes/<mailbox_id>",
    summary="Change limits, tags, from_name, credentials",
    tags=["mailboxes"],
)
def patch(mailbox_id: str, body: MailboxFields) -> MailboxView:
    _, tenant_id = tenant(router, WRITE)
    changed = mailboxes.update(
        deps(),
        tenant_id,
        mailbox_id,
        body,
        ses_account,
        allow_private_hosts=providers().allow_private_hosts,
    )
    if body.smtp is not None:  # new server settings or credentials: try them now
        verify.verify(deps(), providers(), tenant_id, mailbox_id)
        changed = mailboxes.get(deps(), tenant_id, mailbox_id)[0]
    return _view(changed)


class VerifyStep(ApiModel):
    step: str = Field(
        description="connect, tls, auth, mail_from; identity, sending; token, profile"
    )
    ok: bool
    detail: str = Field(description="what was found; never a secret nor a server's own text")


class VerifyResult(ApiModel):
    ok: bool
    steps: list[VerifyStep]


@router.post(
    "/api/mailboxes/<mailbox_id>/verify",
    summary="Check that a mailbox can send, without sending",
    description="SMTP: connect, STARTTLS/TLS, AUTH, MAIL FROM then RSET (never a send). "
    "SES: the sender's identity verified and the account's sending enabled. Gmail/Outlook: "
    "an access token (refreshed if needed) and a profile call. The outcome is kept on the "
    "mailbox as `last_verified_at` and `verify_error`. Also run on create and when SMTP "
    "settings or credentials change.",
    tags=["mailboxes"],
)
def verify_mailbox(mailbox_id: str) -> VerifyResult:
    _, tenant_id = tenant(router, WRITE)
    mailbox, _ = mailboxes.get(deps(), tenant_id, mailbox_id)
    if mailbox.status is MailboxStatus.ARCHIVED:
        raise Conflict("an archived mailbox cannot be verified")
    result = verify.verify(deps(), providers(), tenant_id, mailbox_id)
    return VerifyResult(
        ok=result.ok,
        steps=[VerifyStep(step=s.step, ok=s.ok, detail=s.detail) for s in result.steps],
    )


@router.delete("/api/mailboxes/<mailbox_id>", summary="Archive a mailbox", tags=["mailboxes"])
def archive(mailbox_id: str) -> MailboxView:
    _, tenant_id = tenant(router, WRITE)
    return _view(mailboxes.archive(deps(), tenant_id, mailbox_id))


@router.post("/api/mailboxes/<mailbox_id>/pause", summary="Pause a mailbox", tags=["mailboxes"])
def pause(mailbox_id: str, body: PauseRequest | None = None) -> MailboxView:
    _, tenant_id = tenant(router, WRITE)
    return _view(mailboxes.pause(deps(), tenant_id, mailbox_id, body.reason if body else None))


@router.post("/api/mailboxes/<mailbox_id>/resume", summary="Resume a mailbox", tags=["mailboxes"])
def resume(mailbox_id: str) -> MailboxView:
    _, tenant_id = tenant(router, WRITE)
    return _view(mailboxes.resume(deps(), tenant_id, mailbox_id))


class DayStats(ApiModel):
    date: str
    sent: int
    failed: int
    bounced: int
    complained: int


class MailboxStats(ApiModel):
    id: str
    status: str
    today: DayStats
    days: list[DayStats]
    totals: dict[str, int]
    bounce_rate: float
    complaint_rate: float
    consecutive_errors: int


@router.get(
    "/api/mailboxes/<mailbox_id>/stats",
    summary="Sends, failures, bounces and rates",
    tags=["mailboxes"],
)
def mailbox_stats(mailbox_id: str, days: Annotated[int, Query(ge=1, le=90)] = 30) -> MailboxStats:
    _, tenant_id = tenant(router, READ)
    return MailboxStats(**mailboxes.stats(deps(), tenant_id, mailbox_id, days))
