from __future__ import annotations

from sendrail.settings import ProviderSettings


class InboxSettings(ProviderSettings):
    kms_key_id: str
    # Per mailbox and run: at most this many messages (the rest waits for the next run).
    inbox_messages_per_mailbox: int = 500
    # Stop starting work this long before the function's timeout.
    inbox_stop_margin_seconds: float = 10.0
