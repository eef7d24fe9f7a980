"""Simulated completion: 30 mailboxes x 1,000/day, 100,000 recipients, a 08:00-20:00 send
window. The real Dispatcher and feeder run every virtual minute, as EventBridge fires
them, over in-memory adapters (see memory_store.py for why); a recording provider stands
in for SMTP. Prints the days to complete against the theoretical minimum (target: equal)
and the largest overshoot of any limit (target: 0)."""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / p) for p in ("layers/common", "local", ".")
]

from sendrail.clock import FixedClock  # noqa: E402
from sendrail.domain.models import (  # noqa: E402
    Campaign,
    CampaignStatus,
    Mailbox,
    Provider,
    Recipient,
    SendingSettings,
)
from sendrail.domain.windows import Window  # noqa: E402
from sendrail.providers.base import Sender, SendReceipt  # noqa: E402
from sendrail.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402

from bench.memory_store import MemorySettings, MemoryStore  # noqa: E402
from bench.quick import sized  # noqa: E402

MAILBOXES, DAILY, RECIPIENTS = sized((30, 1_000, 100_000), (3, 200, 1_200))
START = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday, an hour before the window
WINDOW = Window(start="08:00", end="20:00", timezone="UTC")


class RecordingSenders:
    """Senders that record what they are handed, when, by which mailbox."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, str, str]] = []

    def open(self, mailbox: Mailbox) -> Sender:
        senders = self

        class Recording:
            def send(self, message: Any) -> SendReceipt:
                senders.sent.append((senders.clock.now(), mailbox.id, message.to))
                return SendReceipt()

            def close(self) -> None:
                return None

        return Recording()

    def connections(self, mailbox: Mailbox) -> int:
        return 1


def main() -> None:
    clock = FixedClock(START)
    store = MemoryStore.on(clock)
    store.settings = MemorySettings(SendingSettings(window=WINDOW))
    tenant = "ten_sim"
    for i in range(MAILBOXES):
        store.mailboxes.create(
            Mailbox(
                id=f"mbx_{i:02d}",
                tenant_id=tenant,
                provider=Provider.SMTP,
                email=f"m{i}@example.com",
                daily_limit=DAILY,
                created_at=START,
                updated_at=START,
            )
        )
    campaign = store.campaigns.create(
        Campaign(
            id="cmp_sim",
            tenant_id=tenant,
            name="sim",
            subject="s",
            html="<p>Hello</p>",
            created_at=START,
            updated_at=START,
        )
    )
    store.recipients.put_many(
        Recipient(
            campaign_id=campaign.id,
            email=f"r{i:06d}@example.org",
            tenant_id=tenant,
            created_at=START,
            updated_at=START,
        )
        for i in range(RECIPIENTS)
    )
    store.campaigns.add_counts(tenant, campaign.id, {"total": RECIPIENTS, "queued": RECIPIENTS})
    store.campaigns.transition(
        tenant,
        campaign.id,
        {CampaignStatus.DRAFT},
        CampaignStatus.RUNNING,
        START,
        doc_updates={"started_at": START},
        feed_reset=True,
    )
    senders = RecordingSenders(clock)
    sent = senders.sent

    started = time.perf_counter()
    runs = 0
    while len(sent) < RECIPIENTS and clock.now() < START + timedelta(days=30):
        Dispatcher(store, DispatchOptions(), senders=senders).run(lambda: 3600.0)
        runs += 1
        clock.advance(60)
    clock.advance(60)  # the next run sees nothing left and completes the campaign
    Dispatcher(store, DispatchOptions(), senders=senders).run(lambda: 3600.0)
    elapsed = time.perf_counter() - started

    last = max(t for t, _, _ in sent)
    days = (last.date() - START.date()).days + 1
    minimum = math.ceil(RECIPIENTS / (MAILBOXES * DAILY))
    per_mailbox_day = Counter((mailbox, t.date()) for t, mailbox, _ in sent)
    overshoot = max(0, max(per_mailbox_day.values()) - DAILY)
    outside = sum(1 for t, _, _ in sent if not WINDOW.is_open(t))
    per_day = Counter(t.date().isoformat() for t, _, _ in sent)
    print(f"{RECIPIENTS} recipients, {MAILBOXES} mailboxes x {DAILY}/day, window 08:00-20:00 UTC")
    print(f"  sent: {len(sent)} to {len({to for _, _, to in sent})} distinct recipients")
    print(f"  per day: {dict(sorted(per_day.items()))}")
    print(f"  days to complete: {days}   theoretical minimum: {minimum}   (target: equal)")
    print(f"  largest overshoot of any mailbox's daily limit: {overshoot}   (target: 0)")
    print(f"  sends outside the window: {outside}   (target: 0)")
    final = store.campaigns.get(tenant, campaign.id)
    print(f"  campaign status: {final.status.value if final else 'gone'}")
    print(f"  lanes: {DispatchOptions().lanes} per invocation (sends in parallel across mailboxes)")
    print(f"  {runs} dispatch runs simulated in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
