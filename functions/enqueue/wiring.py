"""This function's settings and adapters, built on first use (never at import time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sendrail.services.deps import Deps
from sendrail.services.provider_quotas import SesAccount
from sendrail.wiring import Wiring, secret_value

from functions.enqueue.settings import EnqueueSettings

if TYPE_CHECKING:
    from sendrail.providers.dns_lookup import DnsConfig


def _install_admin_key(settings: EnqueueSettings, built: Deps) -> None:
    if settings.admin_key_secret_arn:
        # The platform admin key is created at install (a generated secret in AWS).
        from sendrail.services import auth  # noqa: PLC0415

        auth.ensure_admin_key(built, secret_value(settings.admin_key_secret_arn))


wiring = Wiring(EnqueueSettings, prepare=_install_admin_key)
settings = wiring.settings
deps = wiring.deps
providers = wiring.providers
reset = wiring.reset


def ses_account() -> SesAccount:
    """The SES account's quota and rate (``GetSendQuota``; cached by the provider module):
    what dispatch applies to SES mailboxes, and so what ``effective_limits`` shows."""
    from sendrail.providers import ses  # noqa: PLC0415 - only when an SES mailbox asks

    return SesAccount(*ses.account(providers()))


def dns_config() -> DnsConfig:
    from sendrail.providers.dns_lookup import DnsConfig  # noqa: PLC0415 - sender auth only

    s = settings()
    return DnsConfig(s.dns_nameserver, s.dns_port, s.dns_timeout, s.dns_budget)
