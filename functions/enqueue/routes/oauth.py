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
    "encrypted; the mailbox becomes `active`. When the consent link was made with "
    "`return_to` (a dashboard path), the answer is a `303` back to that page of this origin.",
    tags=["mailboxes"],
    responses={
        200: {"description": "connected", "content": {"text/html": {}}},
        303: {"description": "connected; back to the dashboard page that asked"},
    },
)
def callback(
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=4096)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> Response[str]:
    if error:
        # Consent refused: back to the dashboard page that asked (the mailbox stays
        # waiting, and the page says so), else an error.
        back = oauth.return_to(deps(), state) if state else None
        if back:
            return _back_to(back)
        raise BadRequest(f"the provider reports: {error}")
    if not code or not state:
        raise BadRequest("code and state are required")
    connected = oauth.complete(deps(), providers(), code, state)
    mailbox = connected.mailbox
    verify.verify(deps(), providers(), mailbox.tenant_id, mailbox.id)  # kept on the mailbox
    if connected.return_to:
        return _back_to(connected.return_to)
    text = f"{html.escape(mailbox.email)} is connected and can send. You can close this page."
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=PAGE.format(title="Mailbox connected", text=text),
        headers={"Cache-Control": "no-store"},
    )


def _back_to(path: str) -> Response[str]:
    """A 303 to a dashboard page of this origin (``path`` came out of a verified state and
    passed ``oauth.safe_return``: an /app/ path, never another site)."""
    return Response(
        status_code=303,
        content_type="text/plain; charset=utf-8",
        body="",
        headers={
            "Location": deps().public_base_url.rstrip("/") + path,
            "Cache-Control": "no-store",
        },
    )
