"""The OpenAPI document served at ``/openapi.json``: what Powertools generates from the
routes, completed with what it cannot know.

- the public routes served by the ``tracking`` function (same API, another Lambda);
- public operations (``/health``, ``/oauth/callback``, ``/api/auth/login``, tracking) carry
  ``security: []``; every other operation needs the bearer token;
- the contract's error responses, in its error shape, on the operations that return them;
- a 204 has no body; bodies that are not a JSON model (DSNs, CSV uploads) are described here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sendrail.api_routes import PUBLIC_PREFIXES

from functions.enqueue.schemas import ErrorResponse

ERROR_REF = "#/components/schemas/ErrorResponse"
JSON = "application/json"

# Operations under /api that take no bearer token.
PUBLIC_API: frozenset[tuple[str, str]] = frozenset(
    {
        ("/api/auth/login", "post"),
        ("/api/auth/session", "post"),
        ("/api/auth/invite", "post"),
        ("/api/auth/invite", "get"),
    }
)

ERRORS: dict[int, str] = {
    400: "bad request: malformed JSON or an unreadable parameter",
    401: "missing or invalid bearer token",
    403: "the token's role may not do this",
    404: "no such object in this tenant",
    409: "conflicts with the object's current state",
    413: "the request body is too large",
    415: "unsupported media type: send application/json",
    422: "a field is invalid (named in details)",
    429: "too many requests: retry after Retry-After seconds",
}

_TEXT = {"schema": {"type": "string"}}
_HTML = {"text/html": _TEXT}
_PAGE = {"content": _HTML}

# Bodies that are not a JSON model: Powertools cannot describe them.
RAW_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/bounces", "post"): {
        "required": True,
        "content": {"message/rfc822": _TEXT, "multipart/report": _TEXT, "text/plain": _TEXT},
    },
    ("/api/campaigns/{campaign_id}/recipients", "post"): {
        "required": True,
        "content": {
            JSON: {
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


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": {"$ref": ERROR_REF}}}}


def _token(description: str) -> dict[str, Any]:
    return {
        "name": "token",
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


_NO_STORE = {"Cache-Control": {"schema": {"type": "string"}}}

# The routes of the ``tracking`` function (functions/tracking/handler.py).
TRACKING: dict[str, dict[str, Any]] = {
    "/track/open/{token}": {
        "get": {
            "tags": ["tracking"],
            "summary": "Open pixel: records an open (a bad token still gets the GIF)",
            "operationId": "track_open",
            "parameters": [_token("the signed open token from the message")],
            "responses": {
                "200": {
                    "description": "a 1x1 transparent GIF",
                    "headers": _NO_STORE,
                    "content": {"image/gif": {"schema": {"type": "string", "format": "binary"}}},
                }
            },
        }
    },
    "/track/click/{token}": {
        "get": {
            "tags": ["tracking"],
            "summary": "Click redirect: records a click, redirects to the original link",
            "operationId": "track_click",
            "parameters": [_token("the signed click token from the rewritten link")],
            "responses": {
                "302": {
                    "description": "to the link's original URL",
                    "headers": {"Location": {"schema": {"type": "string"}}, **_NO_STORE},
                },
                "404": {"description": "a bad or tampered token, never a redirect", **_PAGE},
            },
        }
    },
    "/unsubscribe/{token}": {
        "get": {
            "tags": ["tracking"],
            "summary": "Unsubscribe page: a form that POSTs (a GET never unsubscribes)",
            "operationId": "unsubscribe_page",
            "parameters": [_token("the signed unsubscribe token")],
            "responses": {
                "200": {"description": "the confirmation page", "content": _HTML},
                "404": {"description": "a bad token", "content": _HTML},
            },
        },
        "post": {
            "tags": ["tracking"],
            "summary": "One-click unsubscribe (RFC 8058): suppresses the address at once",
            "operationId": "unsubscribe",
            "parameters": [_token("the signed unsubscribe token")],
            "requestBody": {
                "required": False,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {"List-Unsubscribe": {"type": "string"}},
                        }
                    }
                },
            },
            "responses": {
                "200": {"description": "unsubscribed", "content": _HTML},
                "404": {"description": "a bad token", "content": _HTML},
            },
        },
    },
    "/webhooks/ses": {
        "post": {
            "tags": ["tracking"],
            "summary": "SES notifications through SNS (signature verified)",
            "operationId": "ses_webhook",
            "requestBody": {
                "required": True,
                "content": {
                    "text/plain": _TEXT,
                    JSON: {"schema": {"type": "object"}},
                },
            },
            "responses": {
                "200": {
                    "description": "confirmed, or the notification applied",
                    "content": {JSON: {"schema": {"type": "object"}}},
                },
                "403": _error("not a valid SNS message"),
                "503": _error("the subscription could not be confirmed now; SNS retries"),
            },
        }
    },
}

OPENAPI_JSON: dict[str, Any] = {
    "get": {
        "tags": ["system"],
        "summary": "This document",
        "operationId": "openapi",
        "responses": {
            "200": {
                "description": "the OpenAPI 3 document",
                "content": {JSON: {"schema": {"type": "object"}}},
            }
        },
    }
}


def is_public(path: str, method: str) -> bool:
    prefixes = PUBLIC_PREFIXES
    public_path = any(path == p or path.startswith(p + "/") for p in prefixes)
    return public_path or (path, method) in PUBLIC_API


def complete(generated: str) -> dict[str, Any]:
    """The served document, from Powertools' ``generated`` JSON."""
    document: dict[str, Any] = json.loads(generated)
    paths: dict[str, dict[str, Any]] = document["paths"]
    for (path, method), body in RAW_BODIES.items():
        paths[path][method].setdefault("requestBody", body)
    paths.update(TRACKING)
    paths["/openapi.json"] = OPENAPI_JSON
    for path, operations in paths.items():
        for method, operation in operations.items():
            _complete_operation(path, method, operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorResponse"] = error_schema
    _drop_unused(schemas, document)
    return document


def _complete_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "204" in responses:
        responses["204"].pop("content", None)
    if path.startswith("/track") or path.startswith("/unsubscribe") or path == "/webhooks/ses":
        operation["security"] = []
        return
    body = operation.get("requestBody", {}).get("content", {})
    has_input = bool(operation.get("parameters") or body)
    statuses: set[int] = set()
    if has_input:
        statuses.add(422)
    else:
        responses.pop("422", None)  # Powertools documents one on every operation
    if body:
        statuses |= {400, 413}
        if JSON in body:
            statuses.add(415)
    if "{" in path or (has_input and path.startswith("/api")):
        statuses.add(404)  # the path, a query or the body may name another tenant's object
    if any(p.get("name") == "cursor" for p in operation.get("parameters", [])):
        statuses.add(400)
    if path.startswith("/api"):
        statuses.add(429)
    if is_public(path, method):
        operation["security"] = []
        if path in ("/api/auth/login", "/api/auth/session"):
            statuses.add(401)
        if path == "/api/auth/invite" and method == "post":
            statuses.add(400)
        if path == "/oauth/callback":
            statuses |= {400, 404, 409}
    else:
        statuses |= {401, 403}
        if method != "get":
            statuses.add(409)
        if path == "/api/auth/logout":
            statuses.add(400)  # only a session logs out; an API key is revoked instead
    for status in sorted(statuses):
        response = _error(ERRORS[status])
        if status == 429:
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        responses[str(status)] = response  # the contract's shape, also over Powertools' 422


def _drop_unused(schemas: dict[str, Any], document: dict[str, Any]) -> None:
    """Remove component schemas nothing refers to any more (Powertools' 422 shapes)."""
    while True:
        text = json.dumps(document)
        used = set(re.findall(r'"#/components/schemas/([^"]+)"', text))
        unused = [name for name in schemas if name not in used and name.endswith("ValidationError")]
        if not unused:
            return
        for name in unused:
            del schemas[name]
