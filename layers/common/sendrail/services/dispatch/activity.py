"""Whether a scheduled dispatch run should look for work, for one AWS call.

EventBridge starts dispatch every minute whether or not anything waits; looking (the
active campaigns, expired claims, three queues) costs six calls and, on a cold start, the
secrets a send needs. So a run first checks in (one UpdateItem that also records that it
ran) and goes on only while work may be waiting:

- a campaign entering the active index (started, resumed, scheduled, a direct message, a
  retry of failed mail) marks the platform active (``storage.campaigns``), and it stays
  so until a run looks and finds nothing at all (no campaign in the index, no message, no
  claim to recover): then it falls idle, unless woken since that run began;
- whatever the mark says, every :data:`SWEEP_EVERY_MINUTES`-th minute of the hour a run
  looks anyway (mail put on a queue by hand, a mark lost), so nothing waits longer."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

SWEEP_EVERY_MINUTES = 15


class CheckIn(Protocol):
    def check_in(self, at: datetime) -> bool: ...


def due(system: CheckIn, now: datetime) -> bool:
    return system.check_in(now) or now.minute % SWEEP_EVERY_MINUTES == 0
