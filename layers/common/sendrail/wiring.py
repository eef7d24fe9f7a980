"""Building the adapters from a function's settings, once per cold start: every function
holds one :class:`Wiring` (``functions/<name>/wiring.py``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Generic, TypeVar

from pydantic import SecretStr

from sendrail.providers.base import ProviderConfig
from sendrail.services.deps import Deps
from sendrail.settings import CommonSettings, ProviderSettings
from sendrail.storage import tables
from sendrail.storage.queues import SqsQueues
from sendrail.storage.secrets import SecretBox


def signing_key(settings: CommonSettings) -> bytes:
    """The HMAC key: from the environment locally, from Secrets Manager in AWS."""
    if settings.signing_key is not None:
        return settings.signing_key.get_secret_value().encode()
    if settings.signing_secret_arn:
        return secret_value(settings.signing_secret_arn).encode()
    raise RuntimeError("configure SENDRAIL_SIGNING_KEY or SENDRAIL_SIGNING_SECRET_ARN")


@lru_cache(maxsize=8)
def secret_value(arn: str) -> str:
    """A Secrets Manager secret's string, through Powertools Parameters (cached)."""
    from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415

    value = parameters.get_secret(arn, max_age=300)
    return value if isinstance(value, str) else bytes(value).decode()


def build_deps(settings: CommonSettings) -> Deps:
    tables.bind(settings.table_names(), settings.region)
    return Deps(
        queues=SqsQueues(settings.queues, settings.region),
        secrets=SecretBox(settings.kms_key_id, settings.region),
        signing_key=signing_key(settings),
        public_base_url=settings.public_base_url,
        tracking_base_url=settings.tracking_url(),
    )


def provider_config(settings: ProviderSettings) -> ProviderConfig:
    """Provider endpoints and OAuth clients from a function's settings, field by field (a
    field added to either side without the other is a type error or a failing test)."""
    google_secret = _revealed(settings.google_client_secret)
    microsoft_secret = _revealed(settings.microsoft_client_secret)
    if settings.oauth_secret_arn:  # in AWS: the client secrets live in Secrets Manager
        import json  # noqa: PLC0415

        stored = json.loads(secret_value(settings.oauth_secret_arn) or "{}")
        google_secret = stored.get("google_client_secret") or google_secret
        microsoft_secret = stored.get("microsoft_client_secret") or microsoft_secret
    defaults = ProviderConfig()
    return ProviderConfig(
        smtp_timeout=settings.smtp_timeout,
        allow_private_hosts=settings.allow_private_hosts,
        ses_region=settings.ses_region or settings.region,
        ses_endpoint_url=settings.ses_endpoint_url,
        ses_configuration_set=settings.ses_configuration_set,
        google_client_id=settings.google_client_id,
        google_client_secret=google_secret,
        google_auth_uri=settings.google_auth_uri or defaults.google_auth_uri,
        google_token_uri=settings.google_token_uri or defaults.google_token_uri,
        gmail_api_root=settings.gmail_api_root or defaults.gmail_api_root,
        microsoft_client_id=settings.microsoft_client_id,
        microsoft_client_secret=microsoft_secret,
        microsoft_authority=settings.microsoft_authority or defaults.microsoft_authority,
        graph_api_root=settings.graph_api_root or defaults.graph_api_root,
        http_timeout=settings.http_timeout,
        ca_bundle=settings.ca_bundle,
    )


S = TypeVar("S", bound=CommonSettings)
P = TypeVar("P", bound=ProviderSettings)
T = TypeVar("T")


class Wiring(Generic[S]):
    """A function's settings (validated from the environment on first use), its adapters
    and provider configuration, built once and kept for the container's life. Nothing is
    built at import time, so tests and the local stack set the environment first and call
    :meth:`reset` to make the next call read it again.

    ``prepare`` runs once on the freshly built adapters (enqueue installs the platform
    admin key there); :meth:`cached` adds a function's own built-once values, forgotten by
    :meth:`reset` with the rest."""

    def __init__(
        self,
        settings_type: type[S],
        *,
        prepare: Callable[[S, Deps], None] | None = None,
    ) -> None:
        self.settings_type = settings_type
        self._prepare = prepare
        self._clears: list[Callable[[], None]] = []
        self.settings = self.cached(lambda: settings_type())  # from the environment
        self.deps = self.cached(self._build_deps)
        self._providers: ProviderConfig | None = None

    def cached(self, build: Callable[[], T]) -> Callable[[], T]:
        """``build``, called once until :meth:`reset` (usable as a decorator)."""
        once = cache(build)
        self._clears.append(once.cache_clear)
        return once

    def providers(self: Wiring[P]) -> ProviderConfig:
        """Provider endpoints and OAuth clients (functions whose settings have them)."""
        if self._providers is None:
            self._providers = provider_config(self.settings())
        return self._providers

    def reset(self) -> None:
        """Forget everything built (tests and the local stack use this)."""
        for clear in self._clears:
            clear()
        self._providers = None

    def _build_deps(self) -> Deps:
        settings = self.settings()
        built = build_deps(settings)
        if self._prepare is not None:
            self._prepare(settings, built)
        return built


def _revealed(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None
