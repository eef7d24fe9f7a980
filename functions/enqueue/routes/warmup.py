"""A mailbox's warm-up: today's allowance, the days ahead, and whether it is holding."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from sendrail.domain.models import Provider
from sendrail.services import mailboxes, warmup_plans
from sendrail.services.auth import READ

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.wiring import deps, ses_account

router = APIGatewayRouter()


class WarmupDay(ApiModel):
    date: str
    allowance: int


class WarmupView(ApiModel):
    today_allowance: int | None
    schedule: list[WarmupDay]
    holding: bool
    reason: str | None


@router.get(
    "/api/mailboxes/<mailbox_id>/warmup",
    summary="Warm-up: today's allowance, the schedule ahead, holding while unhealthy",
    description=(
        "The ramp climbs one step per healthy day: a day whose bounce rate is over 2 % or "
        "complaint rate over 0.1 % (at least 20 sends) does not count, and `holding` says so."
    ),
    tags=["mailboxes"],
)
def warmup(mailbox_id: str) -> WarmupView:
    _, tenant_id = tenant(router, READ)
    mailbox, _ = mailboxes.get(deps(), tenant_id, mailbox_id)
    ses = ses_account() if mailbox.provider is Provider.SES else None
    return WarmupView(**warmup_plans.view(deps(), tenant_id, mailbox_id, ses))
