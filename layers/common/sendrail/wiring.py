"""Building the adapters from a function's settings, once per cold start."""

from __future__ import annotations

from functools import lru_cache

from sendrail.providers.base import ProviderConfig
from sendrail.services.deps import Deps
from sendrail.settings import CommonSettings
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


def build_deps(settings: CommonSettings, kms_key_id: str) -> Deps:
    tables.bind(settings.table_names(), settings.region)
    return Deps(
        queues=SqsQueues(settings.queues, settings.region),
        secrets=SecretBox(kms_key_id, settings.region),
        signing_key=signing_key(settings),
        public_base_url=settings.public_base_url,
    )


def provider_config(settings: object) -> ProviderConfig:
    """Provider endpoints and OAuth clients from any settings model that has them."""
    fields = {
        name: getattr(settings, name)
        for name in ProviderConfig.__dataclass_fields__
        if hasattr(settings, name) and getattr(settings, name) is not None
    }
    for name, value in list(fields.items()):
        secret = getattr(value, "get_secret_value", None)
        if callable(secret):
            fields[name] = secret()
    arn = getattr(settings, "oauth_secret_arn", None)
    if arn:  # in AWS: the client secrets live in Secrets Manager
        import json  # noqa: PLC0415

        stored = json.loads(secret_value(arn) or "{}")
        for name in ("google_client_secret", "microsoft_client_secret"):
            if stored.get(name):
                fields[name] = stored[name]
    return ProviderConfig(**fields)
