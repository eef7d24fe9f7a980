from __future__ import annotations

from pydantic import Field
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
    # The sender authentication check (GET /api/mailboxes/{id}/authentication): the DNS
    # server to ask (unset: the system resolver), seconds per query and per check, and how
    # long a result is kept before DNS is asked again.
    dns_nameserver: str | None = None
    dns_port: int = Field(default=53, ge=1, le=65535)
    dns_timeout: float = Field(default=2.0, gt=0, le=10)
    dns_budget: float = Field(default=8.0, gt=0, le=20)
    dns_cache_seconds: int = Field(default=3600, ge=0)
