"""The management API: one Powertools resolver, its routers and error mapping."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from functions.enqueue import errors
from functions.enqueue.routes import (
    admin,
    analytics,
    campaigns,
    keys,
    mailboxes,
    messages,
    oauth,
    queue,
    replies,
    settings,
    suppressions,
    system,
)

app = APIGatewayRestResolver(enable_validation=True)
for module in (
    system,
    admin,
    keys,
    mailboxes,
    campaigns,
    messages,
    oauth,
    queue,
    settings,
    suppressions,
    analytics,
    replies,
):
    app.include_router(module.router)
errors.register(app)


# Routes whose body is not a JSON model: Powertools cannot describe them, so their
# ``requestBody`` is added to the generated document here.
_TEXT = {"schema": {"type": "string"}}
RAW_BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("/api/bounces", "post"): {
        "required": True,
        "content": {"message/rfc822": _TEXT, "multipart/report": _TEXT, "text/plain": _TEXT},
    },
    ("/api/campaigns/{campaign_id}/recipients", "post"): {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["recipients"],
                    "properties": {
                        "recipients": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["email"],
                                "properties": {
                                    "email": {"type": "string"},
                                    "data": {"type": "object"},
                                },
                            },
                        }
                    },
                }
            },
            "text/csv": _TEXT,
        },
    },
}


def openapi_json() -> str:
    import json  # noqa: PLC0415

    document = json.loads(_generated_openapi())
    for (path, method), body in RAW_BODIES.items():
        operation = document["paths"][path][method]
        operation.setdefault("requestBody", body)
    return json.dumps(document)


def _generated_openapi() -> str:
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
