"""Lambda entry point of ``dispatch``."""

from __future__ import annotations

from functools import partial
from typing import Any

from sendrail.cold_start import importing

with importing():  # nothing to collect while the modules load (see cold_start)
    from aws_lambda_powertools.metrics import MetricUnit, single_metric
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from sendrail.clock import SystemClock
    from sendrail.observability import (
        count,
        logger,
        metrics,
        metrics_enabled,
        thread_trace_context,
        tracer,
    )
    from sendrail.providers.base import ProviderConfig
    from sendrail.services import webhooks
    from sendrail.services.dispatch import (
        Dispatcher,
        DispatchOptions,
        DispatchReport,
        ProviderSenders,
        activity,
    )
    from sendrail.services.personalise import personaliser
    from sendrail.services.provider_quotas import SesAccount

    from functions.dispatch.wiring import system, wiring


def ses_account(config: ProviderConfig) -> SesAccount:
    """The SES account's quota (cached an hour by the provider module)."""
    from sendrail.providers import ses  # noqa: PLC0415 - only when an SES mailbox sends

    return SesAccount(*ses.account(config))


def options() -> DispatchOptions:
    s = wiring.settings()
    config = wiring.providers()
    return DispatchOptions(
        lease_seconds=s.lease_seconds,
        receive_wait_seconds=s.receive_wait_seconds,
        stop_margin_seconds=s.stop_margin_seconds,
        lanes=s.lanes,
        provider_config=config,
        ses_account=partial(ses_account, config),
    )


def publish(report: DispatchReport) -> None:
    for name in (
        "sent",
        "deferred",
        "retried",
        "failed",
        "skipped",
        "dead_lettered",
        "recovered",
        "mailboxes_paused",
        "handed_off",
        "fed",
        "completed",
    ):
        count(name.title().replace("_", ""), getattr(report, name))
    if report.needs_reauth:  # alarmed on, under the name enqueue's OAuth path uses
        count("MailboxNeedsReauth", report.needs_reauth)
    if metrics_enabled():
        for mailbox_id, sent in report.by_mailbox.items():
            with single_metric(
                name="SentByMailbox", unit=MetricUnit.Count, value=sent, namespace="Sendrail"
            ) as metric:
                metric.add_dimension(name="mailbox", value=mailbox_id)
    if not (report.batches or report.fed or report.completed or report.started):
        return  # an idle run says nothing
    logger.info(
        "dispatch run",
        extra={
            "sent": report.sent,
            "deferred": report.deferred,
            "failed": report.failed,
            "retried": report.retried,
            "batches": report.batches,
            "peak_lanes": report.peak_lanes,
            "by_mailbox": dict(report.by_mailbox),
            "last_error": report.last_error,
        },
    )


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not activity.due(system(), SystemClock().now()):
        return {"sent": 0, "deferred": 0, "failed": 0, "idle": True}
    run = options()
    deps = wiring.deps()
    dispatcher = Dispatcher(
        deps,
        run,
        senders=ProviderSenders(deps, run.provider_config),
        personalise=personaliser(deps.signing_key, deps.tracking_base_url),
        lane_context=thread_trace_context(),
    )
    report = dispatcher.run(lambda: context.get_remaining_time_in_millis() / 1000.0)
    publish(report)
    webhooks.publish(deps, report.events)
    return {"sent": report.sent, "deferred": report.deferred, "failed": report.failed}
