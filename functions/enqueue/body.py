"""Request bodies of the JSON routes, checked once before any route runs.

A route that takes a Pydantic body accepts ``application/json`` (or no content type) only:
anything else, form posts and ``multipart/form-data`` included, is ``415
unsupported_media_type``. The body is read by :func:`sendrail.json_body.parse`, so JSON
that Python cannot hold is ``400 malformed_json``, never a 500. Routes that read a raw body
(``/api/bounces``, recipient uploads) have no body model and check their own types."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from sendrail.errors import UnsupportedMediaType
from sendrail.json_body import parse

JSON = "application/json"


def media_type(headers: Any) -> str:
    """The request's media type, lower case and without parameters ("" when absent)."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "content-type"), "")
    return str(value or "").split(";", 1)[0].strip().lower()


class JsonBodies(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, with bodies read as JSON only."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        kind = media_type(app.current_event.headers)
        if kind not in ("", JSON):
            raise UnsupportedMediaType(
                f"this route takes {JSON}, not {kind}", details=[{"field": "Content-Type"}]
            )
        return super()._get_body(app)


def json_resolver() -> APIGatewayRestResolver:
    """A validating resolver whose JSON bodies go through :class:`JsonBodies`."""
    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse)
    # Powertools builds each route's middleware chain from this attribute, request
    # validation first; there is no public hook that runs before it.
    app._request_validation_middleware = JsonBodies()
    return app
