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
from sendrail.domain.models import Campaign, Mailbox, Provider, Recipient, SendingSettings  # noqa: E402
from sendrail.domain.windows import Window  # noqa: E402
from sendrail.providers.base import SendReceipt  # noqa: E402
from sendrail.services import campaigns  # noqa: E402
from sendrail.services.deps import Deps  # noqa: E402
from sendrail.services.dispatch import Dispatcher, DispatchOptions  # noqa: E402

from bench.memory_store import (  # noqa: E402
    MemoryCampaigns,
    MemoryLimits,
    MemoryMailboxes,
    MemoryNothing,
    MemoryQueues,
    MemoryRecipients,
    MemorySettings,
)

MAILBOXES, DAILY, RECIPIENTS = 30, 1_000, 100_000
START = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # a Monday, an hour before the window
WINDOW = Window(start="08:00", end="20:00", timezone="UTC")


def main() -> None:
    clock = FixedClock(START)
    nothing = MemoryNothing()
    deps: Any = Deps(
        queues=MemoryQueues(clock),
        secrets=None,
        signing_key=b"k",
        public_base_url="http://x",  # type: ignore[arg-type]
        clock=clock,
    )
    deps.recipients, deps.campaigns, deps.limits = (
        MemoryRecipients(),
        MemoryCampaigns(),
        MemoryLimits(),
    )
    deps.mailboxes = MemoryMailboxes()
    deps.settings = MemorySettings(SendingSettings(window=WINDOW))
    deps.suppressions = deps.stats = deps.system = nothing
    tenant = "ten_sim"
    for i in range(MAILBOXES):
        deps.mailboxes.create(
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
    campaign = deps.campaigns.create(
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
    deps.recipients.put_many(
        Recipient(
            campaign_id=campaign.id,
            email=f"r{i:06d}@example.org",
            tenant_id=tenant,
            created_at=START,
            updated_at=START,
        )
        for i in range(RECIPIENTS)
    )
    deps.campaigns.add_counts(tenant, campaign.id, {"total": RECIPIENTS, "queued": RECIPIENTS})
    campaigns.start(deps, tenant, campaign.id)

    sent: list[tuple[datetime, str, str]] = []

    def opener(mailbox: Mailbox, secret: bytes | None, config: Any) -> Any:
        class Recording:
            def send(self, message: Any) -> SendReceipt:
                sent.append((clock.now(), mailbox.id, message.to))
                return SendReceipt()

            def close(self) -> None:
                return None

        return Recording()

    started = time.perf_counter()
    runs = 0
    while len(sent) < RECIPIENTS and clock.now() < START + timedelta(days=30):
        Dispatcher(deps, DispatchOptions(), opener=opener).run(lambda: 3600.0)
        runs += 1
        clock.advance(60)
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
    print(f"  campaign status: {deps.campaigns.get(tenant, campaign.id).status.value}")
    print(f"  {runs} dispatch runs simulated in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
