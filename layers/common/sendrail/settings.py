"""Configuration shared by the functions. Each function declares its own settings model
(``functions/<name>/settings.py``) by extending :class:`CommonSettings`; it is validated
once per cold start. Logic never reads ``os.environ``: it receives what it needs."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sendrail.storage.tables import MODELS, TableNames


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SENDRAIL_", extra="ignore", frozen=True)

    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    tables: dict[str, str] = Field(description="logical table name -> DynamoDB table name")
    queues: dict[str, str] = Field(description="logical queue name -> SQS queue URL")
    # HMAC key for tracking tokens and OAuth state: the value itself locally, or the ARN of
    # a Secrets Manager secret in AWS (fetched through Powertools Parameters, cached).
    signing_key: SecretStr | None = None
    signing_secret_arn: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    # SENDRAIL_TRACKING_BASE_URL: where the links in sent mail point (open pixel, click
    # redirects, unsubscribe page and List-Unsubscribe): the tracking HTTP API or a branded
    # tracking domain. Unset, the public base URL (the local stack, older deployments).
    tracking_base_url: str | None = None
    stage: str = "aws"  # "aws" or "local"
    # SENDRAIL_ALLOW_PRIVATE_HOSTS: let mailboxes and fetched URLs reach loopback, private
    # and link-local hosts (the local stack's sink). Never on in AWS.
    allow_private_hosts: bool = False
    # The KMS key that seals mailbox credentials and tokens; empty for a function that
    # never opens them (tracking). The functions that do require it in their own model.
    kms_key_id: str = ""

    @field_validator("tables")
    @classmethod
    def _all_tables(cls, value: dict[str, str]) -> dict[str, str]:
        missing = set(MODELS) - set(value)
        if missing:
            raise ValueError(f"missing table names: {sorted(missing)}")
        return value

    @field_validator("public_base_url", "tracking_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value is not None else None

    def tracking_url(self) -> str:
        """The base of every link a reader follows from a sent message."""
        return self.tracking_base_url or self.public_base_url

    def table_names(self) -> TableNames:
        return TableNames(**{k: self.tables[k] for k in MODELS})


class ProviderSettings(CommonSettings):
    """The OAuth clients and provider endpoints (for the functions that connect, send or
    refresh). Client secrets: the values themselves locally, or in AWS a Secrets Manager
    secret ``{"google_client_secret": ..., "microsoft_client_secret": ...}``."""

    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_auth_uri: str | None = None
    google_token_uri: str | None = None
    gmail_api_root: str | None = None
    microsoft_client_id: str | None = None
    microsoft_client_secret: SecretStr | None = None
    microsoft_authority: str | None = None
    graph_api_root: str | None = None
    oauth_secret_arn: str | None = None
    ca_bundle: str | None = None
    http_timeout: float = 30.0
    smtp_timeout: float = 20.0
    # SES sends through the deployment's own region unless SENDRAIL_SES_REGION names another.
    ses_region: str | None = None
    ses_endpoint_url: str | None = None
    # SENDRAIL_SES_CONFIGURATION_SET: named on SES sends from mailboxes that name none.
    ses_configuration_set: str | None = None
