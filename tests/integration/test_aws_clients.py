"""Recipients' raw calls (the claim before every send, the batch writes) go through one
shared client, and SQS calls through the queues' client, both with a fixed User-Agent, so
botocore does not build that header anew on every request; ``bind`` starts a new one."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sendrail.domain.models import Recipient, RecipientStatus
from sendrail.services.deps import Deps
from sendrail.storage import clients, tables
from sendrail.storage.tables import RecipientItem


def test_given_a_claim_then_it_goes_out_with_the_fixed_user_agent(deps: Deps) -> None:
    now = datetime.now(UTC)
    deps.recipients.put_many(
        [
            Recipient(
                campaign_id="cmp_1",
                email="a@example.org",
                tenant_id="ten_1",
                created_at=now,
                updated_at=now,
            )
        ]
    )
    client = tables.client(RecipientItem)
    seen: list[str] = []

    def record(request: Any, **_: Any) -> None:
        seen.append(request.headers["User-Agent"].decode())

    client.meta.events.register("before-send.dynamodb.UpdateItem", record)
    try:
        claimed = deps.recipients.claim(
            "cmp_1",
            "a@example.org",
            mailbox_id="mbx_1",
            message_id="<m@example.com>",
            lease_until=now + timedelta(minutes=10),
            now=now,
        )
    finally:
        client.meta.events.unregister("before-send.dynamodb.UpdateItem", record)
    assert claimed is not None and claimed.status is RecipientStatus.SENDING
    # Powertools, once imported, appends its own name ("PT/...") to every request's.
    assert [ua.split()[0] for ua in seen] == [clients.USER_AGENT]


def test_given_threads_at_once_then_one_client_and_bind_starts_a_new_one(deps: Deps) -> None:
    found: list[Any] = []
    start = threading.Barrier(8)

    def take() -> None:
        start.wait()
        found.append(tables.client(RecipientItem))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(c) for c in found}) == 1
    names = tables.TableNames(**{n: m.Meta.table_name for n, m in tables.MODELS.items()})
    tables.bind(names, RecipientItem.Meta.region, RecipientItem.Meta.host)
    assert tables.client(RecipientItem) is not found[0]


def test_given_sqs_calls_then_they_go_out_with_the_fixed_user_agent(deps: Deps) -> None:
    sqs = deps.queues.client
    seen: list[str] = []

    def record(request: Any, **_: Any) -> None:
        seen.append(request.headers["User-Agent"].decode())

    sqs.meta.events.register("before-send.sqs.ReceiveMessage", record)
    try:
        deps.queues.receive("send-normal", max_messages=10, visibility=30, wait=0)
    finally:
        sqs.meta.events.unregister("before-send.sqs.ReceiveMessage", record)
    # Powertools, once imported, appends its own name ("PT/...") to every request's.
    assert [ua.split()[0] for ua in seen] == [clients.USER_AGENT]
