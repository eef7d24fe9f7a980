"""This function's settings and adapters, built on first use (never at import time)."""

from __future__ import annotations

from functools import cache

from sendrail.providers.base import ProviderConfig
from sendrail.providers.dns_lookup import DnsConfig
from sendrail.services import auth
from sendrail.services.deps import Deps
from sendrail.services.provider_quotas import SesAccount
from sendrail.wiring import build_deps, provider_config, secret_value

from functions.enqueue.settings import EnqueueSettings


@cache
def settings() -> EnqueueSettings:
    return EnqueueSettings()  # from the environment


@cache
def deps() -> Deps:
    built = build_deps(settings(), settings().kms_key_id)
    if settings().admin_key_secret_arn:
        # The platform admin key is created at install (a generated secret in AWS).
        auth.ensure_admin_key(built, secret_value(settings().admin_key_secret_arn or ""))
    return built


@cache
def providers() -> ProviderConfig:
    return provider_config(settings())


def ses_account() -> SesAccount:
    """The SES account's quota and rate (``GetSendQuota``; cached by the provider module):
    what dispatch applies to SES mailboxes, and so what ``effective_limits`` shows."""
    from sendrail.providers import ses  # noqa: PLC0415 - only when an SES mailbox asks

    return SesAccount(*ses.account(providers()))


def dns_config() -> DnsConfig:
    s = settings()
    return DnsConfig(s.dns_nameserver, s.dns_port, s.dns_timeout, s.dns_budget)


def reset() -> None:
    """Forget the cached settings and adapters (tests and the local stack use this)."""
    settings.cache_clear()
    deps.cache_clear()
    providers.cache_clear()
