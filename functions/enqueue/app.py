"""The management API: one Powertools resolver, its routers and error mapping."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from functions.enqueue import errors
from functions.enqueue.routes import (
    admin,
    campaigns,
    keys,
    mailboxes,
    messages,
    queue,
    settings,
    suppressions,
    system,
)

app = APIGatewayRestResolver(enable_validation=True)
for module in (system, admin, keys, mailboxes, campaigns, messages, queue, settings, suppressions):
    app.include_router(module.router)
errors.register(app)


def openapi_json() -> str:
    return app.get_openapi_json_schema(
        title="sendrail",
        version="1.0.0",
        description="Serverless email campaign sender: the management API.",
        security_schemes={"bearer": HTTPBearer(description="an API key or a session token")},
        security=[{"bearer": []}],
    )


@app.get("/openapi.json", summary="This document", tags=["system"], include_in_schema=False)
def openapi() -> dict[str, object]:
    import json  # noqa: PLC0415

    document: dict[str, object] = json.loads(openapi_json())
    return document
