"""A campaign's preview and its proofs (``services.proofs``): what dispatch would send one
recipient, and test sends of it through one mailbox."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ConfigDict, Field
from sendrail.services import campaigns, proofs
from sendrail.services.auth import READ, WRITE
from sendrail.services.dispatch import ProviderSenders

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.schemas import ErrorResponse, respond
from functions.enqueue.wiring import deps, providers, ses_account

router = APIGatewayRouter()

_AS = (
    "Rendered for `email` (an imported recipient; 422 `unknown_recipient` when the campaign "
    "has none by that address), or for ad-hoc `data` (merge fields) at the placeholder "
    f"address `{proofs.PLACEHOLDER_EMAIL}`, or, with neither, for the campaign's first "
    "recipient (empty data when it has none yet). "
)


class PreviewRequest(ApiModel):
    """Whom to render for (``email`` or ``data``, not both), from which mailbox."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=320)
    data: dict[str, Any] | None = None
    mailbox_id: str | None = Field(default=None, max_length=100)


class PreviewView(ApiModel):
    subject: str
    html: str
    text: str
    headers: dict[str, str] = Field(
        description="the message's headers as a reader decodes them (From, To, Subject, "
        "Date, Message-ID, Reply-To, List-Unsubscribe, ...), without the MIME structure "
        "ones (MIME-Version, Content-Type: its boundary is drawn per message)"
    )
    to: str = Field(description="the address it is rendered for")
    mailbox_id: str | None = Field(
        description="the mailbox it is rendered from; null when the campaign has no usable "
        "mailbox yet (the From is then a placeholder)"
    )


class ProofRequest(ApiModel):
    """Proof addresses, the mailbox to send through, and whom to render for."""

    model_config = ConfigDict(extra="forbid")

    to: list[str] = Field(min_length=1, max_length=proofs.MAX_PROOFS)
    mailbox_id: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=320)
    data: dict[str, Any] | None = None


class ProofResult(ApiModel):
    status: str = Field(description='"sent": every proof was handed to the provider')
    mailbox_id: str
    to: list[str]
    subject: str


_MIME_STRUCTURE = ("mime-version", "content-type", "content-transfer-encoding")


@router.post(
    "/api/campaigns/<campaign_id>/preview",
    summary="Render the message one recipient would get",
    description=(
        "Exactly as dispatch would send it (merge tags, tracking links, open pixel, "
        "unsubscribe link and footer, List-Unsubscribe headers), at any status, drafts "
        "included. "
        + _AS
        + "From `mailbox_id`, or the campaign's first usable mailbox. The links are marked "
        "as a preview's: they work, and nothing following them does is recorded (no open, "
        "click or unsubscribe). A template that fails for this recipient: 422 naming the "
        "field (`subject`, `html`, `text`). A read: viewers may preview."
    ),
    tags=["campaigns"],
)
def preview(campaign_id: str, body: PreviewRequest | None = None) -> PreviewView:
    _, tenant_id = tenant(router, READ)
    campaign = campaigns.get(deps(), tenant_id, campaign_id)
    asked = body or PreviewRequest()
    found = proofs.preview(
        deps(), campaign, email=asked.email, data=asked.data, mailbox_id=asked.mailbox_id
    )
    headers = {
        name: value
        for name, value in found.message.headers.items()
        if name.lower() not in _MIME_STRUCTURE
    }
    return PreviewView(
        subject=found.message.subject,
        html=found.message.html,
        text=found.message.text,
        headers=headers,
        to=found.recipient,
        mailbox_id=found.mailbox_id,
    )


@router.post(
    "/api/campaigns/<campaign_id>/test",
    summary="Send proofs now",
    description=(
        f"Sends the message to each of `to` (1 to {proofs.MAX_PROOFS} addresses) at once, "
        f'its subject prefixed with "{proofs.TEST_PREFIX}", through `mailbox_id` or the '
        "campaign's first usable mailbox. " + _AS + "Each proof takes a unit of every limit "
        "a campaign send would (the mailbox's, its sender and recipient domains', the "
        "tenant's) and counts on the mailbox's day; none counts in the campaign's stats or "
        "makes a recipient. No room under a limit: 409 `limit_reached` (`retry_at` in "
        "details), nothing sent. A suppressed address: 422 `suppressed_address`, nothing "
        "sent. A paused mailbox, or none usable: 409. The provider refused: 502 "
        "`test_not_sent`. Owners and senders."
    ),
    tags=["campaigns"],
    responses={
        202: {"description": "sent", "content": {"application/json": {"model": ProofResult}}},
        502: {
            "description": "the provider refused or failed a proof",
            "content": {"application/json": {"model": ErrorResponse}},
        },
    },
)
def send_test(campaign_id: str, body: ProofRequest) -> Response[ProofResult]:
    _, tenant_id = tenant(router, WRITE)
    campaign = campaigns.get(deps(), tenant_id, campaign_id)
    sent = proofs.send_proofs(
        deps(),
        campaign,
        body.to,
        ProviderSenders(deps(), providers()),
        mailbox_id=body.mailbox_id,
        email=body.email,
        data=body.data,
        ses_account=ses_account,
        ses_region=providers().ses_region,
    )
    return respond(
        202,
        ProofResult(status="sent", mailbox_id=sent.mailbox_id, to=sent.to, subject=sent.subject),
    )
