"""The dispatch engine through its handler, on moto, with real SMTP servers: retries,
mailbox failures, exactly-once under duplicates and races, pause/resume, recovery."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sendrail.domain.models import RecipientStatus
from sendrail.providers.base import ProviderConfig
from sendrail.services.dispatch import Dispatcher, DispatchOptions

from tests.conftest import run_dispatch, smtp_mailbox
from tests.fakes.smtp import ScriptedSmtp

LOCAL = ProviderConfig(allow_private_hosts=True)  # the test servers listen on 127.0.0.1

START = "2026-11-23T08:00:00Z"


@pytest.fixture
def smtp() -> Iterator[ScriptedSmtp]:
    server = ScriptedSmtp().start()
    yield server
    server.stop()


def campaign(api, recipients: list[str], **extra: Any) -> str:
    body = {"name": "c", "subject": "Hello", "html": "<p>Hi {{ email }}</p>", **extra}
    cid = api.post("/api/campaigns", body).body["id"]
    reply = api.post(
        f"/api/campaigns/{cid}/recipients", {"recipients": [{"email": e} for e in recipients]}
    )
    assert reply.status == 200, reply.raw
    assert api.post(f"/api/campaigns/{cid}/start").status == 202
    return str(cid)


def recipients(api, cid: str) -> dict[str, dict[str, Any]]:
    return {
        r["email"]: r for r in api.get(f"/api/campaigns/{cid}/recipients?limit=500").body["items"]
    }


def test_given_temporary_replies_then_retries_back_off_until_sent(api, tenant, smtp):
    with time_machine.travel(START, tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        cid = campaign(api, ["temp2-a@example.com", "ok@example.com"])
        run_dispatch()
        first = recipients(api, cid)["temp2-a@example.com"]
        assert first["status"] == "queued" and first["attempts"] == 1
        assert "451" in first["last_error"]
        assert api.get("/api/queue/stats").body["total_deferred"] == 1
        run_dispatch()  # the retry is not due yet: nothing more is tried
        assert smtp.attempts["temp2-a@example.com"] == 1
        for _ in range(6):
            clock.shift(3600)
            run_dispatch()
        final = recipients(api, cid)["temp2-a@example.com"]
        assert final["status"] == "sent" and final["attempts"] == 3
        assert smtp.count("temp2-a@example.com") == 1
        assert api.get(f"/api/campaigns/{cid}").body["status"] == "completed"
        assert api.get("/api/queue/stats").body["total_deferred"] == 0


def test_given_only_temporary_replies_then_the_recipient_fails_after_max_attempts(
    api, tenant, smtp
):
    with time_machine.travel(START, tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        cid = campaign(api, ["temp9-x@example.com"])
        for _ in range(8):
            run_dispatch()
            clock.shift(6 * 3600)
        row = recipients(api, cid)["temp9-x@example.com"]
        assert row["status"] == "failed" and row["attempts"] == 3
        assert "451" in row["last_error"]
        assert smtp.attempts["temp9-x@example.com"] == 3


def test_given_permanent_and_shutdown_replies_then_classified(api, tenant, smtp):
    with time_machine.travel(START, tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        cid = campaign(api, ["reject-a@example.com", "shutdown-b@example.com", "c@example.com"])
        run_dispatch()
        rows = recipients(api, cid)
        assert rows["reject-a@example.com"]["status"] == "failed"
        assert "550" in rows["reject-a@example.com"]["last_error"]
        assert rows["shutdown-b@example.com"]["status"] == "queued"  # 421: try again later
        assert rows["c@example.com"]["status"] == "sent"
        clock.shift(86400)
        run_dispatch()
        assert smtp.count("c@example.com") == 1


def test_given_a_dropped_connection_during_data_then_it_is_not_sent_twice(api, tenant, smtp):
    with time_machine.travel(START, tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        cid = campaign(api, ["drop-a@example.com", "b@example.com"])
        for _ in range(4):
            run_dispatch()
            clock.shift(3600)
        rows = recipients(api, cid)
        assert rows["drop-a@example.com"]["status"] == "failed"
        assert rows["drop-a@example.com"]["last_error"].startswith("unknown_outcome")
        assert smtp.count("drop-a@example.com") == 1  # the server did get it, once
        assert rows["b@example.com"]["status"] == "sent"


def test_given_at_least_once_opted_in_then_an_unknown_outcome_is_retried(api, tenant, smtp, deps):
    from sendrail.domain.models import SendingSettings

    deps.settings.put_sending(tenant["id"], SendingSettings(at_least_once=True))
    with time_machine.travel(START, tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        cid = campaign(api, ["drop-a@example.com"])
        run_dispatch()
        assert recipients(api, cid)["drop-a@example.com"]["status"] == "queued"
        clock.shift(3600)
        run_dispatch()
        assert smtp.count("drop-a@example.com") == 2  # at-least-once, as asked


def test_given_a_mailbox_refusing_auth_then_it_is_paused_and_another_sends_at_once(
    api, tenant, smtp
):
    refusing = ScriptedSmtp(auth_ok=False).start()
    try:
        with time_machine.travel(START, tick=False):
            bad = api.post(
                "/api/mailboxes",
                smtp_mailbox(
                    refusing.port,
                    email="bad@example.com",
                    daily_limit=1000,
                    smtp={
                        "host": "127.0.0.1",
                        "port": refusing.port,
                        "security": "none",
                        "username": "u",
                        "password": "wrong-password",
                    },
                ),
            ).body
            good = api.post(
                "/api/mailboxes", smtp_mailbox(smtp.port, email="good@example.com", daily_limit=10)
            ).body
            cid = campaign(api, [f"r{i}@example.com" for i in range(5)])
            run_dispatch()
            assert api.get(f"/api/mailboxes/{bad['id']}").body["status"] == "paused"
            assert "authentication" in api.get(f"/api/mailboxes/{bad['id']}").body["pause_reason"]
            rows = recipients(api, cid)
            assert {r["status"] for r in rows.values()} == {"sent"}
            assert {r["mailbox_id"] for r in rows.values()} == {good["id"]}
            assert all(r["attempts"] == 1 for r in rows.values())
    finally:
        refusing.stop()


def test_given_mailboxes_with_different_room_then_the_most_remaining_wins_and_limits_hold(
    api, tenant, smtp
):
    with time_machine.travel(START, tick=False):
        big = api.post(
            "/api/mailboxes", smtp_mailbox(smtp.port, email="big@example.com", daily_limit=8)
        ).body
        small = api.post(
            "/api/mailboxes", smtp_mailbox(smtp.port, email="small@example.com", daily_limit=2)
        ).body
        paused = api.post(
            "/api/mailboxes", smtp_mailbox(smtp.port, email="off@example.com", daily_limit=50)
        ).body
        api.post(f"/api/mailboxes/{paused['id']}/pause")
        cid = campaign(api, [f"r{i}@example.com" for i in range(12)])
        run_dispatch()
        rows = recipients(api, cid)
        by = Counter(r["mailbox_id"] for r in rows.values() if r["status"] == "sent")
        assert by == {big["id"]: 8, small["id"]: 2}
        servers = {s["id"]: s for s in api.get("/api/queue/servers").body["items"]}
        assert servers[big["id"]]["daily_remaining"] == 0
        assert servers[small["id"]]["daily_used"] == 2
        assert servers[big["id"]]["next_available_at"] == "2026-11-24T00:00:00Z"
        estimate = api.get(f"/api/campaigns/{cid}/estimate").body
        assert estimate["remaining"] == 2 and estimate["per_day"] == [
            {"date": "2026-11-24", "count": 2}
        ]


def test_given_duplicate_sqs_messages_and_redelivery_then_each_recipient_is_sent_once(
    api, tenant, smtp, deps
):
    from sendrail.services import feeding

    with time_machine.travel(START, tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        cid = campaign(api, [f"r{i}@example.com" for i in range(15)])
        c = deps.campaigns.get(tenant["id"], cid)
        feeding.enqueue(
            deps, c, [(f"r{i}@example.com", None) for i in range(15)]
        )  # every one twice
        feeding.enqueue(
            deps, c, [(f"r{i}@example.com", None) for i in range(5)]
        )  # some three times
        run_dispatch()
        clock.shift(3600)
        run_dispatch()
        assert len(smtp.delivered) == 15
        assert max(Counter(d.to for d in smtp.delivered).values()) == 1
        assert api.get(f"/api/campaigns/{cid}").body["counts"]["sent"] == 15


def test_given_two_dispatchers_racing_over_one_queue_then_nobody_is_sent_twice_and_limits_hold(
    api, tenant, smtp, deps
):
    with time_machine.travel(START, tick=False):
        boxes = [
            api.post(
                "/api/mailboxes", smtp_mailbox(smtp.port, email=f"m{i}@example.com", daily_limit=25)
            ).body
            for i in range(3)
        ]
        cid = campaign(api, [f"r{i}@example.com" for i in range(100)])
        errors: list[BaseException] = []

        def run() -> None:
            try:
                Dispatcher(deps, DispatchOptions(receives_per_batch=1, provider_config=LOCAL)).run(
                    lambda: 60.0
                )
            except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not errors
        delivered = Counter(d.to for d in smtp.delivered)
        assert len(delivered) == 75 and max(delivered.values()) == 1
        rows = recipients(api, cid)
        per_mailbox = Counter(r["mailbox_id"] for r in rows.values() if r["status"] == "sent")
        assert per_mailbox == {b["id"]: 25 for b in boxes}
        assert Counter(r["status"] for r in rows.values()) == {"sent": 75, "queued": 25}


def test_given_a_pause_mid_campaign_then_nothing_is_sent_until_resume_and_nothing_is_lost(
    api, tenant, smtp
):
    with time_machine.travel(START, tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port, daily_limit=10))
        cid = campaign(api, [f"r{i}@example.com" for i in range(25)])
        run_dispatch()
        assert len(smtp.delivered) == 10
        assert api.post(f"/api/campaigns/{cid}/pause").body["status"] == "paused"
        clock.shift(86400)
        for _ in range(3):
            run_dispatch()
        assert len(smtp.delivered) == 10
        assert api.get(f"/api/campaigns/{cid}").body["status"] == "paused"
        api.post(f"/api/campaigns/{cid}/resume")
        run_dispatch()
        assert len(smtp.delivered) == 20
        clock.shift(86400)
        run_dispatch()
        run_dispatch()
        assert sorted(d.to for d in smtp.delivered) == sorted(
            f"r{i}@example.com" for i in range(25)
        )
        assert api.get(f"/api/campaigns/{cid}").body["status"] == "completed"


def test_given_suppressed_and_cancelled_recipients_then_they_are_skipped_at_send_time(
    api, tenant, smtp, deps
):
    from sendrail.domain.models import SuppressionReason
    from sendrail.services import suppressions

    with time_machine.travel(START, tick=False):
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        cid = campaign(api, ["a@example.com", "b@example.com"])
        other = campaign(api, ["c@example.com"])
        # Suppressed after it was queued in SQS: the suppression table is checked at send time.
        deps.suppressions.put(
            suppressions.Suppression(
                tenant_id=tenant["id"],
                email="a@example.com",
                reason=SuppressionReason.MANUAL,
                created_at=deps.clock.now(),
            )
        )
        api.post(f"/api/campaigns/{other}/cancel")
        run_dispatch()
        assert [d.to for d in smtp.delivered] == ["b@example.com"]
        assert recipients(api, cid)["a@example.com"]["status"] == "suppressed"
        assert recipients(api, other)["c@example.com"]["status"] == "cancelled"


def test_given_a_claim_whose_dispatcher_died_then_it_is_resolved_not_resent(
    api, tenant, smtp, deps
):
    with time_machine.travel(START, tick=False) as clock:
        box = api.post("/api/mailboxes", smtp_mailbox(smtp.port)).body
        cid = campaign(api, ["lost@example.com", "fine@example.com"])
        # A dispatcher claimed one recipient and died before sending it.
        claimed = deps.recipients.claim(
            cid,
            "lost@example.com",
            mailbox_id=box["id"],
            message_id="<x@y>",
            lease_until=deps.clock.now() + timedelta(seconds=600),
            now=deps.clock.now(),
        )
        assert claimed is not None
        run_dispatch()  # the lease is live: the claim is left alone
        assert recipients(api, cid)["lost@example.com"]["status"] == "sending"
        clock.shift(700)
        run_dispatch()
        row = recipients(api, cid)["lost@example.com"]
        assert row["status"] == "failed" and row["last_error"].startswith("unknown_outcome")
        assert smtp.count("lost@example.com") == 0
        assert smtp.count("fine@example.com") == 1
        run_dispatch()
        assert api.get(f"/api/campaigns/{cid}").body["status"] == "completed"


def _dead_claim(deps, cid: str, mailbox_id: str, email: str) -> None:
    """A dispatcher claimed ``email`` (a ten-minute lease) and died before sending it."""
    claimed = deps.recipients.claim(
        cid,
        email,
        mailbox_id=mailbox_id,
        message_id="<x@y>",
        lease_until=deps.clock.now() + timedelta(seconds=600),
        now=deps.clock.now(),
    )
    assert claimed is not None


def test_given_a_dead_claim_whose_message_was_dropped_then_the_completion_count_resolves_it(
    api, tenant, smtp, deps
):
    with time_machine.travel(START, tick=False) as clock:
        box = api.post("/api/mailboxes", smtp_mailbox(smtp.port)).body
        cid = campaign(api, ["lost@example.com", "fine@example.com"])
        _dead_claim(deps, cid, box["id"], "lost@example.com")
        # Paused meanwhile: dispatch drops the campaign's messages (resuming feeds again
        # from DynamoDB, where only "fine" is queued), so no message brings "lost" back.
        assert api.post(f"/api/campaigns/{cid}/pause").status == 200
        run_dispatch()
        assert api.post(f"/api/campaigns/{cid}/resume").status == 200
        clock.shift(700)
        run_dispatch()
        run_dispatch()
        assert smtp.count("fine@example.com") == 1
        assert recipients(api, cid)["lost@example.com"]["status"] == "sending"
        # The day-old feed is counted for real: the expired claim is found and resolved.
        clock.shift(25 * 3600)
        run_dispatch()
        row = recipients(api, cid)["lost@example.com"]
        assert row["status"] == "failed" and row["last_error"].startswith("unknown_outcome")
        assert smtp.count("lost@example.com") == 0
        run_dispatch()
        body = api.get(f"/api/campaigns/{cid}").body
        assert body["status"] == "completed"
        assert (body["counts"]["sent"], body["counts"]["failed"]) == (1, 1)


def test_given_a_cancelled_campaign_with_a_dead_claim_then_its_sweep_resolves_it(
    api, tenant, smtp, deps
):
    with time_machine.travel(START, tick=False) as clock:
        box = api.post("/api/mailboxes", smtp_mailbox(smtp.port)).body
        cid = campaign(api, ["lost@example.com", "other@example.com"])
        _dead_claim(deps, cid, box["id"], "lost@example.com")
        assert api.post(f"/api/campaigns/{cid}/cancel").status == 200
        run_dispatch()  # the live claim is left to its dispatcher; the sweep looks again
        rows = recipients(api, cid)
        assert rows["other@example.com"]["status"] == "cancelled"
        assert rows["lost@example.com"]["status"] == "sending"
        clock.shift(700)
        run_dispatch()
        row = recipients(api, cid)["lost@example.com"]
        assert row["status"] == "failed" and row["last_error"].startswith("unknown_outcome")
        assert smtp.count("lost@example.com") == 0 and smtp.count("other@example.com") == 0


def test_given_counters_that_drifted_then_a_real_count_repairs_them_and_completes(
    api, tenant, smtp, deps
):
    with time_machine.travel(START, tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        cid = campaign(api, ["a@example.com"])
        run_dispatch()
        run_dispatch()
        assert api.get(f"/api/campaigns/{cid}").body["status"] == "completed"
        cid = campaign(api, ["b@example.com"])
        # A dispatcher died between its claim and its counter update.
        deps.campaigns.add_counts(tenant["id"], cid, {"queued": 1})
        run_dispatch()
        run_dispatch()
        assert api.get(f"/api/campaigns/{cid}").body["status"] == "running"
        clock.shift(25 * 3600)
        run_dispatch()
        body = api.get(f"/api/campaigns/{cid}").body
        assert body["status"] == "completed"
        assert (body["counts"]["queued"], body["counts"]["sent"]) == (0, 1)


def test_given_a_poison_message_then_it_lands_in_the_dlq_and_shows_in_status(
    api, tenant, deps, admin
):
    deps.queues.client.send_message(QueueUrl=deps.queues.url("send-normal"), MessageBody="not json")
    # Put there by hand, it announced nothing: the quarter-hour sweep finds it.
    with time_machine.travel("2026-11-23T10:15:00Z", tick=False):
        run_dispatch()
    status = api.get("/api/admin/queue/status", token=admin).body
    assert status["dead_letters"] == 1
    assert status["queues"]["send-normal-dlq"]["visible"] == 1
    assert status["last_run_at"] is not None


def test_given_failed_recipients_then_retry_failed_requeues_and_clear_hides_them(api, tenant, smtp):
    with time_machine.travel(START, tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        cid = campaign(api, ["reject-a@example.com", "reject-b@example.com", "ok@example.com"])
        run_dispatch()
        run_dispatch()
        assert api.get(f"/api/campaigns/{cid}").body["status"] == "completed"
        assert api.get("/api/queue/stats").body["total_failed"] == 2
        assert api.post("/api/queue/retry-failed", {"campaign_id": cid}).body == {"requeued": 2}
        assert api.get(f"/api/campaigns/{cid}").body["status"] == "running"
        clock.shift(60)
        run_dispatch()
        run_dispatch()
        assert smtp.attempts["reject-a@example.com"] == 2
        assert api.post("/api/queue/clear", {"campaign_id": cid}).body == {"cleared": 2}
        assert api.get("/api/queue/stats").body["total_failed"] == 0
        report = recipients(api, cid)
        assert report["reject-a@example.com"]["status"] == "failed"  # still in reports
        assert api.post("/api/queue/retry-failed", {"campaign_id": cid}).body == {"requeued": 0}


def test_given_a_campaign_window_then_nothing_is_sent_outside_and_it_resumes_by_itself(
    api, tenant, smtp
):
    with time_machine.travel("2026-11-23T06:00:00Z", tick=False) as clock:
        api.post("/api/mailboxes", smtp_mailbox(smtp.port))
        cid = campaign(
            api,
            ["a@example.com"],
            window={"start": "08:00", "end": "20:00", "timezone": "Europe/Paris"},
        )
        run_dispatch()
        assert smtp.delivered == []
        clock.shift(3600 + 60)  # 07:01 UTC = 08:01 in Paris
        run_dispatch()
        run_dispatch()
        assert [d.to for d in smtp.delivered] == ["a@example.com"]
        assert recipients(api, cid)["a@example.com"]["sent_at"] == "2026-11-23T07:01:00Z"


def test_given_ses_mailboxes_then_they_send_through_sesv2(api, tenant, aws):
    import boto3

    ses = boto3.client("sesv2", region_name="us-east-1")
    ses.create_email_identity(EmailIdentity="example.com")
    with time_machine.travel(START, tick=False):
        box = api.post(
            "/api/mailboxes", {"provider": "ses", "email": "news@example.com", "daily_limit": 5}
        ).body
        cid = campaign(api, ["a@example.org", "b@example.org"])
        run_dispatch()
        rows = recipients(api, cid)
        assert {r["status"] for r in rows.values()} == {"sent"}
        assert {r["mailbox_id"] for r in rows.values()} == {box["id"]}
        assert RecipientStatus.SENT.value == "sent"
