"""The inbox watcher reading Gmail (history / messages.list, readonly scope) and Outlook
(Graph delta, Mail.Read) mailboxes from the local fakes' inboxes: DSNs pause each
mailbox, replies are listed, checkpoints keep later runs to what is new."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from sendrail.clock import SystemClock
from sendrail.providers.base import ProviderConfig
from sendrail.services import inbox
from sendrail_local.answers import Answers

from tests.integration.test_bounces import dsn
from tests.integration.test_inbox_apply import answer
from tests.integration.test_oauth_mailboxes import PROVIDERS, campaign, connect
from tests.integration.test_oauth_mailboxes import fakes as fakes


def config(running: Any) -> ProviderConfig:
    from functions.enqueue.wiring import providers  # pointed at the fakes by the fixture

    return providers()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_given_dsns_and_a_reply_in_the_inbox_then_the_mailbox_is_paused_and_the_reply_listed(
    api, deps, tenant, fakes, dispatch, provider
):
    running, outbox = fakes
    sender = f"sales@{provider}.example"
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        mailbox_id = connect(api, running, provider, sender)
        settings = api.get("/api/settings/sending").body
        settings.update(rate_min_sent=2, bounce_rate_pause=0.5)
        api.put("/api/settings/sending", settings)
        cid = campaign(api, ["ann@x.example", "bob@x.example", "cy@x.example"])
        dispatch()
        ids = {m.to: m.message_id for m in outbox.items()}
        clock.shift(60)
        running.deliver(sender, b"From: friend@personal.example\r\nSubject: hi\r\n\r\nhi\r\n")
        for who in ("ann@x.example", "bob@x.example"):
            running.deliver(sender, dsn(ids[who], {who: "5.1.1"}))
        running.deliver(sender, answer(ids["cy@x.example"], "cy@x.example", "Sounds good"))

        report = inbox.watch_all(deps, config(running))

        assert (report.mailboxes, report.read, report.hard, report.replies) == (1, 4, 2, 1)
        assert report.paused_mailboxes == [mailbox_id]
        assert api.get(f"/api/mailboxes/{mailbox_id}").body["status"] == "paused"
        stats = api.get(f"/api/campaigns/{cid}/stats").body
        assert (stats["bounced"], stats["replied"]) == (2, 1)
        (reply,) = api.get(f"/api/replies?mailbox_id={mailbox_id}").body["items"]
        assert (reply["email"], reply["snippet"]) == ("cy@x.example", "Sounds good")
        # Then a later run reads only what is new (Gmail's history, Graph's delta link).
        assert inbox.watch_all(deps, config(running)).read == 0
        clock.shift(60)
        running.deliver(sender, answer(ids["ann@x.example"], "ann@x.example", "Wrong person"))
        again = inbox.watch_all(deps, config(running))
        assert (again.read, again.replies) == (1, 1)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_given_a_bounded_run_then_the_rest_is_read_next_time(
    api, deps, tenant, fakes, dispatch, provider
):
    running, _ = fakes
    sender = f"sales@{provider}.example"
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        mailbox_id = connect(api, running, provider, sender)
        clock.shift(60)
        for n in range(5):
            running.deliver(
                sender, f"From: n{n}@news.example\r\nSubject: {n}\r\n\r\nx\r\n".encode()
            )
            clock.shift(1)
        runs = [inbox.watch_all(deps, config(running), limit=2).read for _ in range(4)]
        assert runs == [2, 2, 1, 0]  # each message read once, none skipped
        assert api.get(f"/api/mailboxes/{mailbox_id}").body["status"] == "active"


def test_given_an_outlook_consent_then_it_asks_for_mail_read(api, tenant, fakes):
    created = api.post(
        "/api/mailboxes", {"provider": "outlook", "email": "o@outlook.example", "daily_limit": 5}
    )
    scopes = parse_qs(urlsplit(created.body["authorize_url"]).query)["scope"][0].split()
    assert "https://graph.microsoft.com/Mail.Read" in scopes


@pytest.mark.parametrize("provider", PROVIDERS)
def test_given_recipients_that_answer_then_the_fakes_inbox_holds_their_answers(
    api, deps, tenant, fakes, dispatch, provider
):
    running, outbox = fakes
    answers = Answers(SystemClock(), outbox, lambda via, sender, raw: running.deliver(sender, raw))
    outbox.listen(answers.observe)
    sender = f"sales@{provider}.example"
    with time_machine.travel("2026-11-23T08:00:00Z", tick=False) as clock:
        mailbox_id = connect(api, running, provider, sender)
        cid = campaign(api, ["bounce1@x.example", "ooo1@x.example", "reply1@x.example"])
        dispatch()
        assert [m.kind for m in outbox.items(sender)] == ["auto_reply"]  # at once
        clock.shift(61)
        assert answers.flush() == 1  # the bounce, a minute later
        first = inbox.watch_all(deps, config(running))
        assert (first.hard, first.auto_replies, first.replies) == (1, 1, 0)
        clock.shift(600)
        assert answers.flush() == 1  # the reply, ten minutes later
        assert inbox.watch_all(deps, config(running)).replies == 1
        stats = api.get(f"/api/campaigns/{cid}/stats").body
        assert (stats["bounced"], stats["auto_replied"], stats["replied"]) == (1, 1, 1)
        assert len(api.get(f"/api/replies?mailbox_id={mailbox_id}").body["items"]) == 2
