"""Lambda entry point of ``token_refresh``: on its schedule, refreshes the Gmail and
Outlook tokens that expire within the margin (``services.oauth.refresh_due``)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from sendrail.observability import count, logger, metrics, tracer
from sendrail.providers.base import ProviderConfig
from sendrail.services import oauth
from sendrail.services.deps import Deps
from sendrail.wiring import build_deps, provider_config

from functions.token_refresh.settings import TokenRefreshSettings


@cache
def settings() -> TokenRefreshSettings:
    return TokenRefreshSettings()  # from the environment


@cache
def deps() -> Deps:
    return build_deps(settings(), settings().kms_key_id)


@cache
def providers() -> ProviderConfig:
    return provider_config(settings())


def reset() -> None:
    settings.cache_clear()
    deps.cache_clear()
    providers.cache_clear()


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = oauth.refresh_due(
        deps(),
        providers(),
        timedelta(seconds=settings().refresh_margin_seconds),
        workers=settings().refresh_workers,
    )
    if report.refreshed:
        count("TokensRefreshed", report.refreshed)
    logger.info("token refresh", extra=asdict(report))
    return asdict(report)
