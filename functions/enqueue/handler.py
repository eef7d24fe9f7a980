"""Lambda entry point of ``enqueue``: API Gateway proxy events, and SQS events from the
``import`` queue (chunks of large recipient uploads) and the ``webhooks`` queue."""

from __future__ import annotations

from typing import Any

from sendrail.cold_start import importing

with importing():  # the API's routes and models: nothing to collect while they load
    from aws_lambda_powertools.logging import correlation_paths
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from sendrail.observability import logger, metrics, tracer

    from functions.enqueue.app import app


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        from functions.enqueue import webhook_deliveries  # noqa: PLC0415

        if webhook_deliveries.is_webhook_event(event):
            return webhook_deliveries.handle(event, context)
        from functions.enqueue import imports  # noqa: PLC0415 - only the worker needs it

        return imports.handle(event, context)
    return app.resolve(event, context)
