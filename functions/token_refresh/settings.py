from __future__ import annotations

from pydantic import SecretStr
from sendrail.settings import CommonSettings


class TokenRefreshSettings(CommonSettings):
    kms_key_id: str
    refresh_margin_seconds: int = 600
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_token_uri: str | None = None
    microsoft_client_id: str | None = None
    microsoft_client_secret: SecretStr | None = None
    microsoft_authority: str | None = None
