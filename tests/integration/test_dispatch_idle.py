"""An idle platform costs one AWS call a minute: scheduled dispatch runs check in and rest
until a campaign wakes them; secrets are read only when a run has mail to send. AWS
requests are counted where AWS answers (in front of moto), whatever client made them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import time_machine
from moto.core import models as moto_models

from tests.conftest import TEST_SIGNING_KEY, _reset_function_caches, run_dispatch, smtp_mailbox
from tests.fakes.smtp import ScriptedSmtp
from tests.integration.test_dispatch import campaign

QUIET = "2026-11-23T10:07:00Z"  # not a sweep minute (those are :00, :15, :30, :45)


class Requests:
    """AWS requests by service (the endpoint's first label) and operation."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: Counter[str] = Counter()
        stubber = moto_models.botocore_stubber
        original = stubber.process_request

        def process_request(request: Any) -> Any:
            service = request.url.split("://", 1)[1].split(".", 1)[0]
            target = request.headers.get("X-Amz-Target", b"")
            operation = (target.decode() if isinstance(target, bytes) else target).split(".")[-1]
            self.seen[f"{service}.{operation}"] += 1
            return original(request)

        monkeypatch.setattr(stubber, "process_request", process_request)

    def during(self, action: Any) -> Counter[str]:
        self.seen.clear()
        action()
        return Counter(self.seen)


@pytest.fixture
def smtp() -> Iterator[ScriptedSmtp]:
    server = ScriptedSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def requests(aws, monkeypatch: pytest.MonkeyPatch) -> Requests:
    """Given dispatch configured as in AWS: its signing key in Secrets Manager."""
    secret = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="signing", SecretString=TEST_SIGNING_KEY
    )
    monkeypatch.delenv("SENDRAIL_SIGNING_KEY", raising=False)
    monkeypatch.setenv("SENDRAIL_SIGNING_SECRET_ARN", secret["ARN"])
    _reset_function_caches()  # a cold start
    return Requests(monkeypatch)


def test_given_nothing_to_do_then_a_cold_run_makes_one_call_and_reads_no_secret(requests):
    with time_machine.travel(QUIET, tick=False):
        cold = requests.during(run_dispatch)
        warm = requests.during(run_dispatch)
    assert sum(cold.values()) == 1, cold
    assert sum(warm.values()) == 1, warm
    assert not any(op.startswith(("secretsmanager", "kms")) for op in cold)


def test_given_a_started_campaign_then_runs_wake_send_and_fall_idle_again(
    api, tenant, smtp, requests
):
    with time_machine.travel(QUIET, tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        assert sum(requests.during(run_dispatch).values()) == 1
        cid = campaign(api, ["a@example.com", "b@example.com"])
        clock.shift(60)
        run_dispatch()
        assert [d.to for d in smtp.delivered] == ["a@example.com", "b@example.com"]
        clock.shift(60)
        run_dispatch()  # completes the campaign
        assert api.get(f"/api/campaigns/{cid}").body["status"] == "completed"
        clock.shift(60)
        run_dispatch()  # finds nothing: falls idle
        clock.shift(60)
        assert sum(requests.during(run_dispatch).values()) == 1


def test_given_a_long_gap_between_runs_then_a_woken_platform_stays_awake(api, tenant, smtp):
    with time_machine.travel("2026-11-23T06:01:00Z", tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        window = {"start": "08:00", "end": "20:00", "timezone": "UTC"}
        campaign(api, ["a@example.com"], window=window)
        run_dispatch()  # outside the window: nothing sent, but the campaign is there
        clock.shift(2 * 3600 + 7 * 60)  # 08:08, not a sweep minute
        run_dispatch()
        run_dispatch()
        assert [d.to for d in smtp.delivered] == ["a@example.com"]


def test_given_mail_put_on_a_queue_by_hand_then_the_next_sweep_finds_it(api, tenant, deps):
    with time_machine.travel(QUIET, tick=False) as clock:
        run_dispatch()
        deps.queues.client.send_message(QueueUrl=deps.queues.url("send-normal"), MessageBody="x")
        run_dispatch()
        assert deps.queues.depth("send-normal")["visible"] == 1  # nobody looked
        clock.shift(8 * 60)  # 10:15
        run_dispatch()
        assert deps.queues.depth("send-normal")["visible"] == 0


def test_given_more_campaigns_than_a_batch_then_a_run_reads_them_in_batches_oldest_first(
    api, tenant, deps, requests
):
    """Feeding reads every active campaign each run: one query of the index and one
    consistent batch read per 100 campaigns, never a read per campaign."""
    with time_machine.travel(QUIET, tick=False) as clock:
        first = deps.campaigns.get(tenant["id"], campaign(api, ["a@example.com"]))
        assert first is not None and first.status.value == "running"
        started = []
        for i in range(104):
            clock.shift(1)  # each started a second after the one before
            started.append(
                deps.campaigns.create(
                    first.model_copy(
                        update={"id": f"cmp_batch{i:03d}", "started_at": deps.clock.now()}
                    )
                )
            )
        draft = api.post("/api/campaigns", {"name": "d", "subject": "s", "html": "<p>x</p>"})
        assert draft.status == 201
        seen: list[Any] = []
        calls = requests.during(lambda: seen.extend(deps.campaigns.active()))
    assert [c.id for c in seen] == [first.id] + [c.id for c in started]
    assert calls == Counter({"dynamodb.Query": 1, "dynamodb.BatchGetItem": 2}), calls
