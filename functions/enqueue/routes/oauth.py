"""The OAuth redirect back from Google and Microsoft (public: the signed ``state`` says
which mailbox of which tenant)."""

from __future__ import annotations

import html
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from sendrail.errors import BadRequest
from sendrail.services import oauth, verify

from functions.enqueue.wiring import deps, providers

router = APIGatewayRouter()

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="robots" content="noindex"><title>sendrail</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto">
<h1>{title}</h1><p>{text}</p></body></html>"""


@router.get(
    "/oauth/callback",
    summary="Google's or Microsoft's redirect after consent",
    description="Public. Exchanges `code`, checks the signed `state`, stores the tokens "
    "encrypted; the mailbox becomes `active`.",
    tags=["mailboxes"],
    responses={200: {"description": "connected", "content": {"text/html": {}}}},
)
def callback(
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response[str]:
    if error:
        raise BadRequest(f"the provider reports: {error}")
    if not code or not state:
        raise BadRequest("code and state are required")
    mailbox = oauth.complete(deps(), providers(), code, state)
    verify.verify(deps(), providers(), mailbox.tenant_id, mailbox.id)  # kept on the mailbox
    text = f"{html.escape(mailbox.email)} is connected and can send. You can close this page."
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=PAGE.format(title="Mailbox connected", text=text),
        headers={"Cache-Control": "no-store"},
    )
