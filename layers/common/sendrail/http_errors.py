"""The contract's error shape, ``{"error": {"code", "message", "details"}}``, as a
Powertools response: one builder for every function that answers HTTP."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, default=str),
        headers=headers,
    )
