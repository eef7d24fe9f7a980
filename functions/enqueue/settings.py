from __future__ import annotations

from pydantic import SecretStr
from sendrail.settings import CommonSettings


class EnqueueSettings(CommonSettings):
    kms_key_id: str
    # In AWS: a Secrets Manager secret holding the platform admin key, installed at cold start.
    admin_key_secret_arn: str | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    sync_import_rows: int = 5_000
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    microsoft_client_id: str | None = None
    microsoft_client_secret: SecretStr | None = None
