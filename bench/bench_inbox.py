"""The inbox watcher on a mailbox with 10,000 inbox messages, 1% of them ours (replies,
auto-replies and hard bounces of a campaign it sent): messages classified per second,
and AWS calls per inbox message read. Target: at most 0.05 calls per message that is
not ours (they must cost no DynamoDB write).

The messages come from an in-memory reader (the IMAP, Gmail and Outlook readers are
tested against real servers and the fakes); everything the watcher calls is counted."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1] / p) for p in ("layers/common", "local", ".")
]

from sendrail.domain.inbox_classify import classify  # noqa: E402
from sendrail.domain.mime import message_id_for  # noqa: E402
from sendrail.providers.inbox_base import Checkpoint, InboxMessage  # noqa: E402
from sendrail.services import campaigns, inbox, mailboxes, recipients  # noqa: E402
from sendrail.services.campaigns import CampaignCreate  # noqa: E402
from sendrail.services.mailboxes import MailboxCreate  # noqa: E402
from sendrail_local.answers import build  # noqa: E402
from sendrail_local.outbox import Received  # noqa: E402

from bench.harness import METER, aws  # noqa: E402
from bench.quick import sized  # noqa: E402

MESSAGES = sized(10_000, 300)
OURS = MESSAGES // 100
TARGET = 0.05


class ListReader:
    def __init__(self, raws: list[bytes]) -> None:
        self._raws = raws

    def read(
        self,
        checkpoint: Checkpoint | None,
        since: datetime,
        limit: int,
        should_stop: Callable[[], bool],
    ) -> Iterator[InboxMessage]:
        start = int((checkpoint or {}).get("n", 0))
        for n in range(start, min(start + limit, len(self._raws))):
            yield InboxMessage(self._raws[n], None, {"n": n + 1})

    def close(self) -> None:
        return None


def not_ours(n: int) -> bytes:
    if n % 3 == 0:  # the user's own correspondence, some of it threaded
        return (
            f"From: Friend {n} <friend{n}@personal.example>\r\nTo: sales@example.com\r\n"
            f"Subject: Re: lunch {n}\r\nIn-Reply-To: <thread{n}@mail.gmail.com>\r\n"
            f"Message-ID: <p{n}@personal.example>\r\n\r\nStop by at noon?\r\n"
        ).encode()
    if n % 3 == 1:  # newsletters
        return (
            f"From: News <news@publisher{n % 50}.example>\r\nTo: sales@example.com\r\n"
            f"Subject: Issue {n}\r\nList-Unsubscribe: <mailto:u@publisher.example>\r\n"
            "Content-Type: text/html; charset=utf-8\r\n\r\n<p>" + "Lorem ipsum. " * 200 + "</p>\r\n"
        ).encode()
    return (  # notifications
        f"From: noreply@saas{n % 20}.example\r\nTo: sales@example.com\r\n"
        f"Subject: Your report {n} is ready\r\n\r\nSee the dashboard.\r\n"
    ).encode()


def main() -> None:
    with aws() as deps:
        tenant = "ten_bench"
        mailbox = mailboxes.create(
            deps,
            tenant,
            MailboxCreate(
                provider="smtp",
                email="sales@example.com",
                daily_limit=10_000,
                smtp={"host": "127.0.0.1", "port": 9, "security": "none"},
            ),
            allow_private_hosts=True,
        )
        campaign = campaigns.create(
            deps, tenant, CampaignCreate(name="bench", subject="Hi", html="<p>Hi</p>")
        )
        people = [f"r{i}@example.org" for i in range(OURS)]
        recipients.add(deps, campaign, recipients.rows_from_json([{"email": p} for p in people]))
        ids = [message_id_for(campaign.id, p, "example.com") for p in people]
        ours: list[bytes] = []
        now = deps.clock.now()
        for i, (person, message_id) in enumerate(zip(people, ids, strict=True)):
            kind = {0: "hard_bounce", 1: "auto_reply"}.get(i % 10, "reply")
            sent = Received(
                to=person,
                sender="sales@example.com",
                mailbox_id=mailbox.id,
                subject="Hi",
                message_id=message_id,
                headers={},
                html="<p>Hi</p>",
                text="Hi",
                received_at=now,
                via="smtp",
            )
            ours.append(build(kind, sent, now))
        others = [not_ours(n) for n in range(MESSAGES - OURS)]

        started = time.perf_counter()
        for raw in others + ours:
            classify(raw)
        classified = MESSAGES / (time.perf_counter() - started)

        METER.enabled = True
        METER.reset()
        started = time.perf_counter()
        report = inbox.watch(deps, mailbox, ListReader(others), limit=MESSAGES)
        seconds = time.perf_counter() - started
        theirs_calls = dict(METER.calls)
        per_other = METER.total() / len(others)
        METER.reset()
        ours_report = inbox.watch(deps, mailbox, ListReader(others + ours), limit=MESSAGES)
        per_ours = METER.total() / len(ours)
        METER.enabled = False

    print(f"messages: {MESSAGES} ({len(ours)} ours)")
    print(f"classified (headers, body when needed): {classified:,.0f} messages/s")
    print(f"watch, not ours: {len(others) / seconds:,.0f} messages/s, {report.ignored} ignored")
    print(f"AWS calls per message not ours: {per_other:.4f} (target <= {TARGET}) {theirs_calls}")
    print(
        f"AWS calls per message of ours: {per_ours:.1f} "
        f"(hard {ours_report.hard}, replies {ours_report.replies}, "
        f"auto-replies {ours_report.auto_replies})"
    )
    if per_other > TARGET:
        raise SystemExit(f"over target: {per_other:.4f} AWS calls per message not ours")


if __name__ == "__main__":
    main()
