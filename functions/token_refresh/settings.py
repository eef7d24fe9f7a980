from __future__ import annotations

from sendrail.settings import ProviderSettings


class TokenRefreshSettings(ProviderSettings):
    kms_key_id: str
    refresh_margin_seconds: int = 600
    refresh_workers: int = 8
