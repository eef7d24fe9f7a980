"""Logger, Tracer and Metrics: created once, shared by every function."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="sendrail")
tracer = Tracer(service="sendrail")
metrics = Metrics(namespace="Sendrail", service="sendrail")
