"""This function's settings and adapters, built on first use."""

from __future__ import annotations

from sendrail.services.sns import SnsPolicy
from sendrail.wiring import Wiring

from functions.tracking.settings import TrackingSettings

wiring = Wiring(TrackingSettings)  # tracking never opens secrets: no KMS key
settings = wiring.settings
deps = wiring.deps
reset = wiring.reset


@wiring.cached
def sns_policy() -> SnsPolicy:
    s = settings()
    return SnsPolicy(
        host_pattern=s.sns_cert_host_pattern,
        schemes=tuple(s.sns_cert_schemes),
        topic_arns=tuple(s.ses_topic_arns),
        allow_private_hosts=s.allow_private_hosts,
    )
