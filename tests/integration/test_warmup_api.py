"""GET /api/mailboxes/{id}/warmup through the API, with the mailbox's real stats counters."""

from __future__ import annotations

import time_machine
from sendrail.storage import stats as keys

from tests.conftest import Api, smtp_mailbox


def test_given_a_warmup_then_today_the_schedule_and_a_hold_after_a_bad_day(api: Api, tenant, deps):
    with time_machine.travel("2026-11-20T08:00:00Z", tick=False) as clock:
        # Given a mailbox warming up from 10 a day, +100 % a day, to 80
        ramp = {"start_per_day": 10, "increase_percent": 100, "max_per_day": 80}
        created = api.post("/api/mailboxes", smtp_mailbox(2525, daily_limit=0, warmup=ramp))
        assert created.status == 201, created.raw
        mailbox = created.body["id"]
        first = api.get(f"/api/mailboxes/{mailbox}/warmup")
        assert first.status == 200, first.raw
        assert first.body == {
            "today_allowance": 10,
            "schedule": [
                {"date": "2026-11-20", "allowance": 10},
                {"date": "2026-11-21", "allowance": 20},
                {"date": "2026-11-22", "allowance": 40},
                {"date": "2026-11-23", "allowance": 80},
            ],
            "holding": False,
            "reason": None,
        }
        # When its first day bounces 25 % (counted as dispatch counts them)
        deps.stats.add(keys.mailbox_key(mailbox), "d#2026-11-20", {"sent": 40, "bounced": 10})
        clock.shift(86_400)
        # Then the next day holds at 10 and says why
        held = api.get(f"/api/mailboxes/{mailbox}/warmup").body
        assert held["today_allowance"] == 10 and held["holding"] is True
        assert "bounce rate 25.0% on 2026-11-20" in held["reason"]
        assert [d["allowance"] for d in held["schedule"]] == [10, 20, 40, 80]


def test_given_no_warmup_then_the_limit_in_force_and_no_schedule(api: Api, tenant):
    created = api.post(
        "/api/mailboxes",
        {
            "provider": "smtp",
            "email": "me@gmail.com",
            "smtp": {"host": "smtp.gmail.com", "port": 587},
        },
    ).body
    body = api.get(f"/api/mailboxes/{created['id']}/warmup").body
    assert body["today_allowance"] == 500 and body["schedule"] == [] and not body["holding"]
    assert api.get("/api/mailboxes/mbx_nope/warmup").status == 404


def test_given_an_unhealthy_day_then_dispatch_holds_the_ramp_too(
    api: Api, tenant, deps, sink, dispatch
):
    server, _ = sink
    with time_machine.travel("2026-11-20T08:00:00Z", tick=False) as clock:
        ramp = {"start_per_day": 10, "increase_percent": 100, "max_per_day": 80}
        created = api.post("/api/mailboxes", smtp_mailbox(server.port, daily_limit=0, warmup=ramp))
        mailbox = created.body["id"]
        # Given its first day bounced 25 %
        deps.stats.add(keys.mailbox_key(mailbox), "d#2026-11-20", {"sent": 40, "bounced": 10})
        clock.shift(86_400)
        # When a campaign of 30 is dispatched the next day
        cid = api.post("/api/campaigns", {"name": "w", "subject": "s", "html": "<p>h</p>"}).body[
            "id"
        ]
        rows = [{"email": f"w{i}@x.example"} for i in range(30)]
        assert api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows}).status == 200
        started = api.post(f"/api/campaigns/{cid}/start")
        assert started.status == 202
        # The estimate knows the ramp is held: 10 today, 20 tomorrow
        assert started.body["estimate"]["per_day"] == [
            {"date": "2026-11-21", "count": 10},
            {"date": "2026-11-22", "count": 20},
        ]
        dispatch()
        dispatch()
        # Then it sends the held 10, not the 20 the calendar would allow
        assert api.get(f"/api/campaigns/{cid}/stats").body["sent"] == 10
        server_row = next(
            s for s in api.get("/api/queue/servers").body["items"] if s["id"] == mailbox
        )
        assert server_row["daily_limit"] == 10
        # And the day after (a healthy one), it climbs to 20
        clock.shift(86_400)
        dispatch()
        assert api.get(f"/api/campaigns/{cid}/stats").body["sent"] == 30
