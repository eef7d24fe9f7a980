"""Dispatch scenarios end to end through the local stack's HTTP API, with the virtual
clock: five tenants run side by side over two virtual days, then each scenario is
checked against what the SMTP sink received and when (virtual time).

- A: 3 mailboxes x 10/day, 50 recipients: 30 on day one, none over 10 per mailbox, all 50
  by day two.
- B: a 08:00-20:00 window in America/New_York (hourly limit 2): nothing outside it,
  resumes the next day by itself.
- C: a sliding window of 2 per 1,800 s: never exceeded in any 1,800 s span.
- D: a 5/hour cap on gmail.com: never exceeded; other domains are not held back.
- E: a priority 10 message goes out before the rest of a started campaign."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import ADMIN, Http, Stack, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-dispatch")]

START = "2026-11-23T05:00:00Z"  # a Monday


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def tenant(http: Http, name: str) -> Http:
    status, body, _ = http.post(
        "/api/admin/tenants", {"name": name, "owner_email": f"{name}@example.com"}, token=ADMIN
    )
    assert status == 201, body
    return Http(http.base, body["owner_key"])


def mailbox(http: Http, port: int, email: str, **limits: Any) -> str:
    status, body, _ = http.post(
        "/api/mailboxes",
        {
            "provider": "smtp",
            "email": email,
            "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
            **limits,
        },
    )
    assert status == 201, body
    return str(body["id"])


def campaign(http: Http, emails: list[str], **extra: Any) -> str:
    status, body, _ = http.post(
        "/api/campaigns", {"name": "c", "subject": "s", "html": "<p>h</p>", **extra}
    )
    assert status == 201, body
    cid = body["id"]
    status, added, _ = http.post(
        f"/api/campaigns/{cid}/recipients", {"recipients": [{"email": e} for e in emails]}
    )
    assert added["added"] == len(emails), added
    status, started, _ = http.post(f"/api/campaigns/{cid}/start")
    assert status == 202, started
    return str(cid)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Any:
    stack = start_stack(tmp_path_factory.mktemp("dispatch"), virtual_clock=START)
    try:
        yield _run(stack)
    finally:
        stop_stack(stack)


def _run(stack: Stack) -> dict[str, Any]:
    http, port = stack.http, stack.smtp_port
    a, b, c, d, e = (tenant(http, n) for n in ("alpha", "bravo", "charlie", "delta", "echo"))
    for i in range(3):
        mailbox(a, port, f"a{i}@alpha.example.com", daily_limit=10)
    a_cid = campaign(a, [f"a{i}@example.org" for i in range(50)])
    mailbox(b, port, "b@bravo.example.com", hourly_limit=2)
    b_cid = campaign(
        b,
        [f"b{i}@example.org" for i in range(30)],
        window={"start": "08:00", "end": "20:00", "timezone": "America/New_York"},
    )
    mailbox(c, port, "c@charlie.example.com", rate_limit={"count": 2, "per_seconds": 1800})
    c_cid = campaign(c, [f"c{i}@example.org" for i in range(8)])
    for i in range(2):
        mailbox(d, port, f"d{i}@delta.example.com")
    status, _, _ = d.call("PUT", "/api/domain-throttles/gmail.com", {"max_per_hour": 5})
    assert status == 200
    d_cid = campaign(
        d, [f"d{i}@gmail.com" for i in range(12)] + [f"x{i}@example.org" for i in range(3)]
    )
    mailbox(e, port, "e@echo.example.com", rate_limit={"count": 1, "per_seconds": 600})
    e_cid = campaign(e, [f"e{i}@example.org" for i in range(6)])

    http.advance(60)  # the first run
    status, message, _ = e.post(
        "/api/queue/enqueue",
        {
            "to": "vip@example.org",
            "subject": "urgent",
            "html": "<p>now</p>",
            "priority": 10,
        },
    )
    assert status == 202, message
    snapshot_day_one_midday = {
        "e_campaign_sent": e.get(f"/api/campaigns/{e_cid}/stats")[1]["sent"],
    }
    http.advance(24 * 3600)  # to Tuesday 05:01
    a_day_two = a.get(f"/api/campaigns/{a_cid}")[1]
    http.advance(12 * 3600)  # to Tuesday 17:01
    outbox = http.get("/_local/outbox", token="")[1]["items"]
    return {
        "outbox": outbox,
        "a": a_day_two,
        "b": b.get(f"/api/campaigns/{b_cid}")[1],
        "c": c.get(f"/api/campaigns/{c_cid}")[1],
        "d": d.get(f"/api/campaigns/{d_cid}")[1],
        "e": e.get(f"/api/campaigns/{e_cid}")[1],
        "e_message": e.get(f"/api/messages/{message['id']}")[1],
        "snapshot": snapshot_day_one_midday,
        "d_throttles": d.get("/api/domain-throttles")[1]
        if d.get("/api/domain-throttles")[0] == 200
        else None,
    }


def sent_by(world: dict[str, Any], sender_domain: str) -> list[dict[str, Any]]:
    return [i for i in world["outbox"] if i["from"].endswith("@" + sender_domain)]


def test_a_three_mailboxes_of_ten_a_day_send_30_on_day_one_and_all_50_by_day_two(world):
    items = sent_by(world, "alpha.example.com")
    per_day = Counter(i["received_at"][:10] for i in items)
    assert per_day["2026-11-23"] == 30
    per_mailbox_day = Counter((i["from"], i["received_at"][:10]) for i in items)
    assert max(per_mailbox_day.values()) <= 10
    assert len(items) == 50 and len({i["to"] for i in items}) == 50
    assert world["a"]["status"] == "completed"


def test_b_nothing_is_sent_outside_the_new_york_window_and_it_resumes_next_day(world):
    items = sent_by(world, "bravo.example.com")
    ny = ZoneInfo("America/New_York")
    for item in items:
        local = at(item["received_at"]).astimezone(ny)
        assert 8 <= local.hour < 20, local
    days = Counter(at(i["received_at"]).astimezone(ny).date().isoformat() for i in items)
    assert days == {"2026-11-23": 24, "2026-11-24": 6}
    assert world["b"]["status"] == "completed"


def test_c_a_sliding_window_of_two_per_1800_seconds_is_never_exceeded(world):
    times = sorted(at(i["received_at"]) for i in sent_by(world, "charlie.example.com"))
    assert len(times) == 8
    for i, t in enumerate(times):
        assert sum(1 for u in times[: i + 1] if u > t - timedelta(seconds=1800)) <= 2
    assert times[-1] - times[0] <= timedelta(hours=2)  # and it keeps the pace


def test_d_a_five_per_hour_cap_on_gmail_holds_and_others_are_not_held_back(world):
    items = sent_by(world, "delta.example.com")
    gmail = [i for i in items if i["to"].endswith("@gmail.com")]
    assert len(gmail) == 12
    assert max(Counter(i["received_at"][:13] for i in gmail).values()) <= 5
    others = [i for i in items if not i["to"].endswith("@gmail.com")]
    assert {i["received_at"] for i in others} == {"2026-11-23T05:01:00Z"}
    assert world["d"]["status"] == "completed"


def test_e_a_priority_10_message_goes_before_the_rest_of_the_campaign(world):
    assert world["snapshot"]["e_campaign_sent"] == 1  # the campaign had started
    items = sent_by(world, "echo.example.com")
    order = [i["to"] for i in items]
    assert order[0].startswith("e") and order[1] == "vip@example.org"
    assert world["e_message"]["status"] == "sent"
    assert world["e"]["status"] == "completed"
