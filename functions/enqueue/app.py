"""The management API: one Powertools resolver, its routers and error mapping."""

from __future__ import annotations

import json

from functions.enqueue import errors, openapi
from functions.enqueue.body import json_resolver
from functions.enqueue.routes import (
    admin,
    analytics,
    browser_sessions,
    campaigns,
    content,
    dashboard,
    keys,
    mailboxes,
    messages,
    oauth,
    proofs,
    queue,
    replies,
    sender_auth,
    settings,
    suppressions,
    system,
    users,
    warmup,
    webhooks,
)

app = json_resolver()
for module in (
    system,
    dashboard,
    admin,
    keys,
    browser_sessions,
    mailboxes,
    campaigns,
    content,
    proofs,
    messages,
    oauth,
    queue,
    settings,
    suppressions,
    analytics,
    replies,
    warmup,
    sender_auth,
    users,
    webhooks,
):
    app.include_router(module.router)
errors.register(app)


def openapi_json() -> str:
    return json.dumps(openapi.complete(_generated_openapi()))


def _generated_openapi() -> str:
    # Powertools' OpenAPI models (some fifty pydantic classes) load only for the document.
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer  # noqa: PLC0415

    return app.get_openapi_json_schema(
        title="sendrail",
        version="1.0.0",
        description="Serverless email campaign sender: the management API.",
        security_schemes={"bearer": HTTPBearer(description="an API key or a session token")},
        security=[{"bearer": []}],
    )


@app.get("/openapi.json", summary="This document", tags=["system"], include_in_schema=False)
def openapi_document() -> dict[str, object]:
    document: dict[str, object] = json.loads(openapi_json())
    return document
