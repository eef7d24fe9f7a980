from __future__ import annotations

from pydantic import Field
from sendrail.settings import ProviderSettings


class DispatchSettings(ProviderSettings):
    kms_key_id: str
    lease_seconds: int = 600
    receive_wait_seconds: int = 1
    stop_margin_seconds: float = 10.0
    # Sends in flight at once in one invocation (lanes across mailboxes); 32 suit the
    # function's 1 GB. Set by the CDK app from the context value ``dispatchLanes``.
    lanes: int = Field(default=32, ge=1, le=256)
