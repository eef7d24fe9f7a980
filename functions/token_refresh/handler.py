"""Lambda entry point of ``token_refresh``: on its schedule, refreshes the Gmail and
Outlook tokens that expire within the margin (``services.oauth.refresh_due``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from sendrail.cold_start import importing

with importing():  # nothing to collect while the modules load (see cold_start)
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from sendrail.observability import count, logger, metrics, tracer
    from sendrail.services import oauth

    from functions.token_refresh.wiring import wiring


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = oauth.refresh_due(
        wiring.deps(),
        wiring.providers(),
        timedelta(seconds=wiring.settings().refresh_margin_seconds),
        workers=wiring.settings().refresh_workers,
    )
    if report.refreshed:
        count("TokensRefreshed", report.refreshed)
    logger.info("token refresh", extra=asdict(report))
    return asdict(report)
