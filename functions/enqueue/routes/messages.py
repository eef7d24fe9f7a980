from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from sendrail.domain.models import Campaign, Recipient
from sendrail.services import messages
from sendrail.services.auth import READ, WRITE
from sendrail.services.messages import MessageCreate

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.schemas import MessageView, respond
from functions.enqueue.wiring import deps

router = APIGatewayRouter()


class Enqueued(ApiModel):
    id: str
    status: str


def _view(campaign: Campaign, recipient: Recipient) -> MessageView:
    return MessageView(
        id=campaign.id,
        status=recipient.status.value,
        to=recipient.email,
        mailbox_id=recipient.mailbox_id,
        attempts=recipient.attempts,
        last_error=recipient.last_error,
        sent_at=recipient.sent_at,
        priority=campaign.priority,
    )


@router.post(
    "/api/queue/enqueue",
    summary="Queue one message",
    tags=["messages"],
    responses={
        202: {"description": "queued", "content": {"application/json": {"model": Enqueued}}}
    },
)
def enqueue(body: MessageCreate) -> Response[Enqueued]:
    _, tenant_id = tenant(router, WRITE)
    campaign, recipient = messages.enqueue(deps(), tenant_id, body)
    return respond(202, Enqueued(id=campaign.id, status=recipient.status.value))


@router.get("/api/messages/<message_id>", summary="Status of one message", tags=["messages"])
def get_one(message_id: str) -> MessageView:
    _, tenant_id = tenant(router, READ)
    return _view(*messages.get(deps(), tenant_id, message_id))
