"""Every error leaves the API in the contract's shape:
``{"error": {"code", "message", "details"}}``. Domain exceptions map to statuses here, once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from sendrail import errors
from sendrail.http_errors import error_response
from sendrail.observability import logger

STATUS: dict[type[errors.SendrailError], int] = {
    errors.BadRequest: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.ValidationFailed: 422,
    errors.TooManyRequests: 429,
    errors.ProofNotSent: 502,
}


def _location(loc: Any) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) if parts else "body"


def register(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(errors.SendrailError)
    def domain_error(exc: errors.SendrailError) -> Response[str]:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        headers = None
        if isinstance(exc, errors.TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return error_response(status, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[str]:
        problems = exc.errors()
        unreadable = [p for p in problems if p.get("type") == "json_invalid"]
        if unreadable:
            reason = str((unreadable[0].get("ctx") or {}).get("error", "not JSON"))
            return error_response(
                400,
                "malformed_json",
                "the request body is not valid JSON",
                [{"field": "body", "reason": reason[:200]}],
            )
        details = [
            {"field": _location(p.get("loc", ())), "reason": str(p.get("msg", "invalid"))}
            for p in problems
        ]
        fields = ", ".join(sorted({d["field"] for d in details}))
        return error_response(422, "validation_failed", f"invalid value for: {fields}", details)

    @app.not_found
    def not_found(exc: NotFoundError) -> Response[str]:
        return error_response(404, "not_found", "no such route")

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "something went wrong on our side")
