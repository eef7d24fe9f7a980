"""This function's settings and adapters, built on first use."""

from __future__ import annotations

from functools import cache

from sendrail.services.deps import Deps
from sendrail.services.sns import SnsPolicy
from sendrail.wiring import build_deps

from functions.tracking.settings import TrackingSettings


@cache
def settings() -> TrackingSettings:
    return TrackingSettings()  # from the environment


@cache
def deps() -> Deps:
    return build_deps(settings(), kms_key_id="")  # tracking never opens secrets


@cache
def sns_policy() -> SnsPolicy:
    s = settings()
    return SnsPolicy(
        host_pattern=s.sns_cert_host_pattern,
        schemes=tuple(s.sns_cert_schemes),
        topic_arns=tuple(s.ses_topic_arns),
        allow_private_hosts=s.allow_private_hosts,
    )


def reset() -> None:
    settings.cache_clear()
    deps.cache_clear()
    sns_policy.cache_clear()
