"""Lambda entry point of ``tracking``: the public endpoints (no API key), and SQS events
from the ``events`` queue (opens and clicks recorded later).

The readers' routes (``sendrail.api_routes.READER_ROUTES``) are one set of functions on a
``Router`` that both resolvers include: the tracking HTTP API's payload 2.0 events (the
links dispatch writes now) and the REST API's events (links already sent, and SES's
notifications, which only the REST API serves)."""

from __future__ import annotations

import base64
import json
from typing import Any

from sendrail.cold_start import importing

with importing():  # nothing to collect while the modules load (see cold_start)
    from aws_lambda_powertools.event_handler import (
        APIGatewayHttpResolver,
        APIGatewayRestResolver,
        Request,
        Response,
        content_types,
    )
    from aws_lambda_powertools.event_handler.api_gateway import Router
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.data_classes import (
        APIGatewayProxyEvent,
        APIGatewayProxyEventV2,
    )
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from sendrail import json_body
    from sendrail.domain.tracking import CLICK, OPEN, is_safe_location
    from sendrail.http_errors import error_response
    from sendrail.observability import logger, metrics, tracer
    from sendrail.services import bounces, sns, tracking

    from functions.tracking import pages
    from functions.tracking.wiring import deps, sns_policy

readers = Router()  # no models here: the pixel is bytes

# The smallest transparent GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
NO_STORE = {"Cache-Control": "no-store, no-cache, must-revalidate, private", "Pragma": "no-cache"}


def _client(request: Request) -> tuple[str | None, str | None]:
    """The reader's user agent and address, from either shape of event. Read from the
    ``Request`` the resolving resolver injects, not ``readers.current_event``: a router
    included twice answers with the last resolver's event, and the local stack keeps each
    resolver's event apart per thread."""
    event = request.resolved_event
    agent = event.headers.get("user-agent")  # case-insensitive
    if isinstance(event, APIGatewayProxyEventV2):
        return agent, event.request_context.http.source_ip
    assert isinstance(event, APIGatewayProxyEvent)
    return agent, event.request_context.identity.source_ip


def _html(status: int, body: str) -> Response[str]:
    return Response(
        status_code=status,
        content_type="text/html; charset=utf-8",
        body=body,
        headers={**NO_STORE, **pages.SECURITY_HEADERS, "X-Robots-Tag": "noindex"},
    )


@readers.get(
    "/track/open/<token>", summary="Open pixel", tags=["tracking"], include_in_schema=False
)
def open_pixel(token: str, request: Request) -> Response[bytes]:
    agent, ip = _client(request)
    # Recorded now or queued; a bad token is ignored; the reader gets the GIF either way.
    tracking.track(deps(), tracking.Hit(OPEN, token, agent, ip))
    return Response(
        status_code=200,
        content_type="image/gif",
        body=PIXEL,
        headers={**NO_STORE, "X-Content-Type-Options": "nosniff"},
    )


@readers.get(
    "/track/click/<token>", summary="Click redirect", tags=["tracking"], include_in_schema=False
)
def click(token: str, request: Request) -> Response[str]:
    url = tracking.click_url(deps(), token)  # from the signed token: no storage read
    if url is None or not is_safe_location(url):  # a Location never carries a line break
        return _html(404, pages.not_found())
    agent, ip = _client(request)
    tracking.track(deps(), tracking.Hit(CLICK, token, agent, ip))
    return Response(status_code=302, body="", headers={"Location": url, **NO_STORE})


@readers.get(
    "/unsubscribe/<token>", summary="Unsubscribe page", tags=["tracking"], include_in_schema=False
)
def unsubscribe_page(token: str) -> Response[str]:
    target = tracking.unsubscribe_target(deps(), token)
    if target is None:
        return _html(404, pages.not_found())
    return _html(200, pages.confirm_unsubscribe(target.email))  # a GET never unsubscribes


@readers.post(
    "/unsubscribe/<token>",
    summary="One-click unsubscribe (RFC 8058)",
    tags=["tracking"],
    include_in_schema=False,
)
def unsubscribe(token: str) -> Response[str]:
    target = tracking.unsubscribe(deps(), token)
    if target is None:
        return _html(404, pages.not_found())
    return _html(200, pages.unsubscribed(target.email))


app = APIGatewayRestResolver()  # the REST API: every public route
app.include_router(readers)
http_app = APIGatewayHttpResolver()  # the tracking HTTP API: the readers' routes only
http_app.include_router(readers)


@app.post(
    "/webhooks/ses",
    summary="SES notifications through SNS",
    tags=["tracking"],
    include_in_schema=False,
)
def ses_webhook() -> Response[str]:
    try:
        message = json_body.parse(app.current_event.body or "")
        if not isinstance(message, dict):
            raise ValueError("not an object")
        sns.verify(message, sns_policy())
    except (ValueError, sns.SnsError) as exc:
        logger.warning("rejected an SNS message", extra={"reason": str(exc)})
        return error_response(403, "forbidden", "not a valid SNS message")
    kind = message.get("Type")
    if kind == "SubscriptionConfirmation":
        try:
            sns.confirm_subscription(message, sns_policy())
        except sns.SnsError as exc:
            return error_response(403, "forbidden", str(exc))
        except OSError as exc:  # SNS will send the confirmation again
            logger.warning("could not confirm the subscription", extra={"reason": str(exc)})
            return error_response(503, "unavailable", "try again")
        return _json(200, {"confirmed": True})
    if kind != "Notification":
        return _json(200, {})
    try:
        notification = json_body.parse(str(message.get("Message", "")))
    except ValueError:
        notification = {}
    applied = bounces.apply(
        deps(), bounces.classify_ses(notification if isinstance(notification, dict) else {})
    )
    return _json(
        200,
        {
            "hard": applied.hard,
            "soft": applied.soft,
            "complaints": applied.complaints,
            "unmatched": applied.unmatched,
        },
    )


def _json(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body)
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:  # the events queue: hits that could not be recorded at once
        from functions.tracking import events  # noqa: PLC0415

        return events.handle(event, context)
    if event.get("version") == "2.0":  # the tracking HTTP API
        return http_app.resolve(event, context)
    return app.resolve(event, context)
