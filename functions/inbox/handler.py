"""Lambda entry point of ``inbox``: on its schedule, reads every readable mailbox's new
inbox messages and applies them (``services.inbox.watch_all``): DSNs, replies,
auto-replies and unsubscribe requests."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sendrail.cold_start import importing

with importing():  # nothing to collect while the modules load (see cold_start)
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from sendrail.observability import logger, metrics, tracer
    from sendrail.services import inbox

    from functions.inbox.wiring import wiring


@logger.inject_lambda_context(log_event=False)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    margin_ms = wiring.settings().inbox_stop_margin_seconds * 1000
    report = inbox.watch_all(
        wiring.deps(),
        wiring.providers(),
        limit=wiring.settings().inbox_messages_per_mailbox,
        should_stop=lambda: context.get_remaining_time_in_millis() < margin_ms,
    )
    for name, value in (
        ("InboxMessagesRead", report.read),
        ("InboxHardBounces", report.hard),
        ("InboxReplies", report.replies),
        ("InboxUnavailable", len(report.unavailable)),
        ("MailboxesPaused", len(report.paused_mailboxes)),
    ):
        if value:
            metrics.add_metric(name=name, unit="Count", value=value)
    logger.info("inbox run", extra=asdict(report))
    return asdict(report)
