from __future__ import annotations

from pydantic import Field
from sendrail.services.sns import AWS_HOSTS
from sendrail.settings import CommonSettings


class TrackingSettings(CommonSettings):
    # Where SNS signing certificates and subscription URLs may come from.
    sns_cert_host_pattern: str = AWS_HOSTS
    sns_cert_schemes: list[str] = Field(default_factory=lambda: ["https"])
    ses_topic_arns: list[str] = Field(default_factory=list)
