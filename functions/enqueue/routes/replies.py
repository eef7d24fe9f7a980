"""Replies and auto-replies the inbox watcher read from the sending mailboxes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from sendrail.domain.models import Reply, ReplyKind
from sendrail.services.auth import READ
from sendrail.storage.codec import decode_cursor

from functions.enqueue.api_model import ApiModel
from functions.enqueue.auth import tenant
from functions.enqueue.schemas import Page, page
from functions.enqueue.wiring import deps

router = APIGatewayRouter()


class ReplyView(ApiModel):
    campaign_id: str
    email: str
    mailbox_id: str
    received_at: datetime
    subject: str
    snippet: str
    kind: ReplyKind


def _view(r: Reply) -> ReplyView:
    return ReplyView(**r.model_dump(include=set(ReplyView.model_fields)))


@router.get("/api/replies", summary="Replies read from the mailboxes' inboxes", tags=["replies"])
def list_all(
    campaign_id: Annotated[str | None, Query(max_length=64)] = None,
    mailbox_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query()] = None,
) -> Page[ReplyView]:
    _, tenant_id = tenant(router, READ)
    items, last = deps().inbox.page(
        tenant_id, limit, decode_cursor(cursor), campaign_id=campaign_id, mailbox_id=mailbox_id
    )
    return Page[ReplyView].model_validate(page([_view(r) for r in items], last))
