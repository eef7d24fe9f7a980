"""Logger, Tracer and Metrics: created once, shared by every function."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

# What X-Ray records below the handler's segment: every AWS call (botocore, which pynamodb
# uses too) and every other HTTP call (http.client: Gmail through httplib2, Graph, msal and
# google-auth through requests). Powertools' default, patch_all, would also import
# requests and sqlite3 at cold start and trace each DynamoDB call twice (botocore and
# pynamodb); httplib is not part of it, so the Gmail API would go untraced.
TRACED_MODULES = ("botocore", "httplib")
# botocore's own connections are traced by the botocore patch already.
AWS_CONNECTIONS = (
    "botocore.awsrequest.AWSHTTPConnection",
    "botocore.awsrequest.AWSHTTPSConnection",
)

logger = Logger(service="sendrail")
tracer = Tracer(service="sendrail", patch_modules=TRACED_MODULES)
metrics = Metrics(namespace="Sendrail", service="sendrail")


def metrics_enabled() -> bool:
    return not is_metrics_disabled()


def count(name: str, value: int = 1) -> None:
    """Add to a Count metric (published when the handler's ``log_metrics`` flushes). Nothing
    when metrics are disabled: Powertools would keep them anyway, and print a batch to
    stdout at every hundredth value, disabled or not."""
    if metrics_enabled():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


if not tracer.disabled:
    from aws_xray_sdk.ext.httplib import add_ignored  # type: ignore[import-untyped]

    for connection in AWS_CONNECTIONS:
        add_ignored(subclass=connection)


def thread_trace_context() -> Callable[[], AbstractContextManager[None]] | None:
    """For work the caller hands to threads: a context that puts the threads' X-Ray
    subsegments under the caller's current entity (the SDK keeps one per thread). None
    when tracing is off."""
    if tracer.disabled:
        return None
    recorder: Any = tracer.provider
    entity = recorder.get_trace_entity()

    @contextmanager
    def inside() -> Iterator[None]:
        recorder.get_trace_entity()  # sets up the thread's Lambda context first (SDK #342)
        recorder.set_trace_entity(entity)
        try:
            yield
        finally:
            recorder.clear_trace_entities()

    return inside
