from __future__ import annotations

from sendrail.settings import ProviderSettings


class EnqueueSettings(ProviderSettings):
    kms_key_id: str
    # In AWS: a Secrets Manager secret holding the platform admin key, installed at cold start.
    admin_key_secret_arn: str | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    sync_import_rows: int = 5_000
    # Requests per second per API key (or session) unless the tenant sets its own;
    # 0 turns every limit off (tenants' settings included).
    api_rate_limit: int = 50
