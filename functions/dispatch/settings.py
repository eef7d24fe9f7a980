from __future__ import annotations

from pydantic import Field, SecretStr
from sendrail.settings import CommonSettings


class DispatchSettings(CommonSettings):
    kms_key_id: str
    metrics_disabled: bool = Field(default=False, validation_alias="POWERTOOLS_METRICS_DISABLED")
    lease_seconds: int = 600
    receive_wait_seconds: int = 1
    stop_margin_seconds: float = 10.0
    smtp_timeout: float = 20.0
    ses_endpoint_url: str | None = None
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_token_uri: str | None = None
    gmail_api_root: str | None = None
    microsoft_client_id: str | None = None
    microsoft_client_secret: SecretStr | None = None
    microsoft_authority: str | None = None
    graph_api_root: str | None = None
