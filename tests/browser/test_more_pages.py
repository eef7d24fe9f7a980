"""More dashboard pages in a real Chromium against the local stack: a mailbox's sender
authentication panel (SPF, DKIM, DMARC, MX and advice) with the DMARC badge in its row,
the replies the inbox watcher read (paged), and the owner's users page (invite with a link
shown once, change role, remove) that other roles neither see nor open. Screenshots go to
build/screenshots/more-*.png.

The stack's DNS is a server on 127.0.0.1 (tests/browser/conftest.py's zone): the tests
look at statuses and advice being shown as the API says them, not at particular values."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import AUTH_DOMAIN, EMAILS, MARKS, PHONE
from tests.conftest import smtp_mailbox
from tests.e2e.conftest import Stack

pytestmark = MARKS

MAX_ADVANCES = 30  # bounded wait on the stack clock for the inbox watcher


def open_page(page: Page, http: Any, route: str) -> None:
    page.goto(f"{http.base}/app/#/{route}")
    expect(page.locator("main h1")).to_be_visible()


def no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"scrolls sideways by {overflow}px"


def test_given_a_mailbox_when_its_authentication_opens_then_statuses_advice_and_badge_show(
    page_as, browser_stack, stack_http, shot
):
    body = smtp_mailbox(browser_stack.smtp_port, email=f"auth@{AUTH_DOMAIN}")
    status, created, _ = stack_http.post("/api/mailboxes", body)
    assert status == 201, created
    page = page_as("viewer")  # a GET: every role may read it
    open_page(page, stack_http, "mailboxes")
    row = page.get_by_role("row").filter(has_text="auth@auth-shop.example")
    expect(row).to_contain_text("DMARC not checked")

    row.get_by_role("link", name="Authentication of auth@auth-shop.example").click()
    panel = page.get_by_role("region", name="Authentication of auth@auth-shop.example")
    expect(panel).to_contain_text("Domain auth-shop.example")
    checked = stack_http.get(f"/api/mailboxes/{created['id']}/authentication")[1]
    for name in ("SPF", "DKIM", "DMARC", "MX"):
        check = panel.locator("dl.checks > div").filter(has=page.locator("dt", has_text=name))
        expect(check.locator(".badge")).to_have_text(checked[name.lower()]["status"])
    expect(panel.get_by_role("heading", name="Advice")).to_be_visible()
    assert checked["advice"], "p=none and no DKIM key: there is advice"
    expect(panel.locator(".advice li")).to_have_count(len(checked["advice"]))
    expect(panel.locator(".advice li").first).to_contain_text(checked["advice"][0]["message"])

    # The check is cached now, and /api/queue/servers carries its DMARC alignment.
    servers = stack_http.get("/api/queue/servers")[1]["items"]
    auth = next(s for s in servers if s["id"] == created["id"])["authentication"]
    assert auth is not None
    label = "DMARC aligned" if auth["dmarc_aligned"] else "DMARC not aligned"
    expect(row.locator(".badge", has_text=re.compile("^DMARC"))).to_have_text(label)
    shot(page, "more-mailbox-authentication")
    assert page.locator("main button").count() == 0  # still nothing a viewer may not do

    panel.get_by_role("link", name="Close").click()
    expect(panel).to_have_count(0)

    phone = page_as("owner", PHONE)
    open_page(phone, stack_http, f"mailboxes?auth={created['id']}")
    expect(phone.get_by_role("region", name=re.compile("Authentication of"))).to_be_visible()
    shot(phone, "more-mailbox-authentication-phone")
    no_sideways_scroll(phone)


def imap_port(stack: Stack) -> int:
    found = re.search(r"IMAP server\s+imap://[\d.]+:(\d+)", stack.log.read_text())
    assert found, "the stack names its IMAP server"
    return int(found.group(1))


def test_given_replies_in_the_inbox_then_the_replies_page_lists_them_as_text_and_pages(
    page_as, browser_stack, stack_http, shot, screenshots
):
    sender = "answers@replies-shop.example"
    body = smtp_mailbox(browser_stack.smtp_port, email=sender, daily_limit=0)
    body["imap"] = {"host": "127.0.0.1", "port": imap_port(browser_stack), "security": "none"}
    status, mailbox, _ = stack_http.post("/api/mailboxes", body)
    assert status == 201, mailbox
    status, campaign, _ = stack_http.post(
        "/api/campaigns",
        {
            "name": "answers <i>q4</i>",
            "subject": "Hi <b>there</b>",
            "html": "<p>Hi</p>",
            "mailbox_ids": [mailbox["id"]],
        },
    )
    assert status == 201, campaign
    people = ["reply1"] + [f"ooo{n:02}" for n in range(51)]
    rows = [{"email": f"{p}@replies.example"} for p in people]
    assert stack_http.post(f"/api/campaigns/{campaign['id']}/recipients", {"recipients": rows})[
        0
    ] in (200, 201, 202)
    assert stack_http.post(f"/api/campaigns/{campaign['id']}/start")[0] in (200, 202)
    for _ in range(MAX_ADVANCES):
        stack_http.advance(120)
        listed = stack_http.get(f"/api/replies?campaign_id={campaign['id']}&limit=500")[1]
        if len(listed["items"]) == len(people):
            break
    assert len(listed["items"]) == len(people), len(listed["items"])

    page = page_as("sender")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Replies").click()
    first = page.get_by_role("table", name="Replies, page 1")
    expect(first.locator("tbody tr")).to_have_count(50)
    expect(first).to_contain_text("Out of office: Hi <b>there</b>")  # the subject as text
    expect(first.locator("tbody b")).to_have_count(0)
    expect(first).to_contain_text("auto_reply")
    expect(first).to_contain_text("2026-")  # received time
    link = first.get_by_role("link").first
    expect(link).to_have_attribute("href", f"#/campaigns/{campaign['id']}")
    expect(link).to_have_text("answers <i>q4</i>")  # the campaign's name, as text
    seen = set(first.locator("tbody td:first-child").all_inner_texts())
    shot(page, "more-replies")

    page.get_by_role("button", name="Next page").click()
    second = page.get_by_role("table", name="Replies, page 2")
    expect(second).to_be_visible()
    rest = set(second.locator("tbody td:first-child").all_inner_texts())
    assert rest and not rest & seen
    assert "reply1@replies.example" in seen | rest
    page.get_by_role("button", name="First page").click()
    expect(page.get_by_role("table", name="Replies, page 1")).to_be_visible()

    link = page.get_by_role("link", name=re.compile("Campaign of the reply")).first
    link.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("answers <i>q4</i>")

    phone = page_as("viewer", PHONE)
    open_page(phone, stack_http, "replies")
    expect(phone.get_by_role("table", name="Replies, page 1")).to_be_visible()
    phone.screenshot(path=str(screenshots / "more-replies-phone.png"))  # the first screenful
    no_sideways_scroll(phone)


def test_given_the_users_page_then_an_owner_invites_changes_a_role_and_removes(
    page_as, stack_http, shot
):
    page = page_as("owner")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Users").click()
    users = page.get_by_role("table", name="Users of this account")
    expect(users).to_contain_text(EMAILS["viewer"])

    form = page.get_by_role("form", name="Invite a user")
    form.get_by_label("Email address").fill("new.person@acme.example")
    form.get_by_label("Role").select_option("viewer")
    form.get_by_label("Email address").press("Enter")  # the keyboard submits
    link = page.get_by_role("region", name="The invitation").get_by_label("Invitation link")
    url = link.input_value()
    assert "/api/auth/invite?token=" in url
    expect(form.get_by_label("Role")).to_have_value("sender")  # reset to sender, never owner
    row = users.get_by_role("row").filter(has_text="new.person@acme.example")
    expect(row).to_contain_text("invited")
    expect(row.get_by_label("Role of new.person@acme.example")).to_have_value("viewer")
    shot(page, "more-users")

    page.reload()
    expect(page.get_by_role("table", name="Users of this account")).to_contain_text(
        "new.person@acme.example"
    )
    assert url not in page.content()  # the link is shown once

    row.get_by_label("Role of new.person@acme.example").select_option("sender")
    expect(page.get_by_text("new.person@acme.example is now sender.")).to_be_visible()
    listed = stack_http.get("/api/users")[1]["items"]
    assert next(u for u in listed if u["email"] == "new.person@acme.example")["role"] == "sender"

    # The last owner cannot be demoted: the API's 409 is shown and the select goes back.
    owner_role = page.get_by_label(f"Role of {EMAILS['owner']}")
    owner_role.select_option("viewer")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label(f"Role of {EMAILS['owner']}")).to_have_value("owner")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove new.person@acme.example").click()
    expect(page.get_by_text("new.person@acme.example removed.")).to_be_visible()
    expect(users.get_by_role("row").filter(has_text="new.person@acme.example")).to_have_count(0)
    emails = [u["email"] for u in stack_http.get("/api/users")[1]["items"]]
    assert "new.person@acme.example" not in emails

    phone = page_as("owner", PHONE)
    open_page(phone, stack_http, "users")
    expect(phone.get_by_role("table", name="Users of this account")).to_be_visible()
    shot(phone, "more-users-phone")
    no_sideways_scroll(phone)


def test_given_a_sender_or_viewer_then_no_users_link_and_the_page_refuses(page_as, stack_http):
    for role in ("sender", "viewer"):
        page = page_as(role)
        nav = page.get_by_role("navigation", name="Main")
        expect(nav.get_by_role("link", name="Replies")).to_be_visible()
        expect(nav.get_by_role("link", name="Users")).to_have_count(0)
        open_page(page, stack_http, "users")
        expect(page.get_by_text("Your role may not open this page.")).to_be_visible()
        assert page.locator("main table, main form").count() == 0
