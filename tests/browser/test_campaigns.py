"""Issue 14 in a real browser: sign in and out, a campaign from a CSV to completion with
the progress bar following the virtual clock, pause and resume, and a viewer who cannot
start anything (no button, and the API refuses the viewer's own cookie)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import EMAILS, PASSWORD, PHONE
from tests.conftest import smtp_mailbox
from tests.e2e.conftest import Http

CSV = (
    "email,first_name\n"
    "ann@example.org,Ann\n"
    "bo@example.org,Bo\n"
    "cy@example.org,Cy\n"
    "dee@example.org,Dee\n"
    "eve@example.org,Eve\n"
    "fay@example.org,Fay\n"
    "not-an-address,Nope\n"
    "ann@example.org,Ann again\n"
    "gone@example.org,Gone\n"
)
HTML = "<h1>Hi {{ first_name }}</h1><p>News of the week.</p>"


def has_route(http: Http, path: str) -> bool:
    status, document, _ = http.get("/openapi.json", token="")
    return status == 200 and path in document["paths"]


def progress(page: Any) -> Any:
    return page.get_by_role("progressbar", name="Sent of total")


def create_draft(page: Any, name: str, mailbox_email: str) -> str:
    """Through the new-campaign form; returns the draft's id (from the editor's address)."""
    page.get_by_role("link", name="New campaign").click()
    page.get_by_role("heading", name="New campaign").wait_for()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Subject", exact=True).fill("Hello {{ first_name }}")
    page.get_by_label("HTML", exact=True).fill(HTML)
    page.get_by_label(re.compile(re.escape(mailbox_email))).check()
    page.get_by_role("button", name="Create draft").click()
    page.get_by_role("heading", name=f"Edit: {name}").wait_for()
    found = re.search(r"#/campaigns/([^/]+)/edit$", page.url)
    assert found, page.url
    return found.group(1)


def upload_csv(page: Any) -> None:
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": CSV.encode()}]
    )
    page.get_by_role("button", name="Upload CSV").click()
    counts = page.locator("[data-count]")
    counts.first.wait_for()


def count(page: Any, label: str) -> str:
    return str(page.locator(f"[data-count={label}] dd").inner_text())


def test_given_the_login_page_when_signing_in_and_out_then_the_session_follows(
    browser, stack_http, page_as, shot
):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    first = context.new_page()
    first.goto(f"{stack_http.base}/app/#/campaigns")
    first.get_by_role("heading", name="Sign in to sendrail").wait_for()  # not signed in yet
    shot(first, "login")
    # By keyboard alone: the email field has focus, Tab moves on, Enter submits.
    first.keyboard.type(EMAILS["viewer"])
    first.keyboard.press("Tab")
    first.keyboard.type(PASSWORD)
    first.keyboard.press("Enter")
    first.get_by_role("heading", name="Campaigns", level=1).wait_for()
    assert first.evaluate("document.activeElement.id") == "main"  # focus moved to the page
    context.close()

    # An API key signs in too; once the key is deleted the next request shows the login.
    status, key, _ = stack_http.post("/api/keys", {"name": "browser", "role": "sender"})
    assert status == 201, key
    by_key = browser.new_context(viewport={"width": 1280, "height": 900})
    keyed = by_key.new_page()
    keyed.goto(f"{stack_http.base}/app/")
    keyed.get_by_label("API key").fill(key["key"])
    keyed.get_by_role("button", name="Sign in with key").click()
    keyed.get_by_text("API key · sender").wait_for()
    assert stack_http.call("DELETE", f"/api/keys/{key['id']}")[0] == 204
    keyed.get_by_role("link", name="New campaign").click()
    keyed.get_by_role("heading", name="Sign in to sendrail").wait_for()
    assert keyed.locator("#nav a").count() == 0  # signed out: no navigation left
    by_key.close()

    page = page_as("owner")
    assert page.get_by_text(f"{EMAILS['owner']} · owner").is_visible()
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to sendrail").wait_for()
    page.goto(f"{stack_http.base}/app/#/campaigns")
    page.reload()
    page.get_by_role("heading", name="Sign in to sendrail").wait_for()  # the cookie is gone


def test_given_a_csv_when_the_campaign_runs_then_the_bar_follows_the_clock(
    stack_http, mailbox, page_as, shot
):
    status, body, _ = stack_http.post("/api/suppressions", {"email": "gone@example.org"})
    assert status in (200, 201), body
    page = page_as("sender")
    shot(page, "campaigns_before")
    cid = create_draft(page, "Weekly news", mailbox["email"])

    upload_csv(page)
    assert count(page, "added") == "6"
    assert count(page, "invalid") == "1"
    assert count(page, "duplicates") == "1"
    assert count(page, "suppressed") == "1"
    page.get_by_role("button", name="Check content").click()
    page.locator(".findings").wait_for()
    shot(page, "campaign_new")

    page.get_by_role("button", name="Start campaign").click()
    page.wait_for_url(re.compile(f"#/campaigns/{cid}$"))
    bar = progress(page)
    assert bar.get_attribute("aria-valuemax") == "6"
    assert bar.get_attribute("aria-valuenow") == "0"

    stack_http.advance(90)  # the mailbox sends its three for this hour
    page.wait_for_selector('[role=progressbar][aria-valuenow="3"]')
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Resume").wait_for()
    assert page.get_by_text("paused", exact=True).first.is_visible()
    shot(page, "campaign_paused")
    page.get_by_role("button", name="Resume").click()
    page.get_by_role("button", name="Pause").wait_for()

    stack_http.advance(3600)  # the next hour: the other three
    page.wait_for_selector('[role=progressbar][aria-valuenow="6"]')
    page.reload()
    page.get_by_text("completed", exact=True).first.wait_for()
    page.locator(".chart svg polyline[data-series=sent]").wait_for(state="attached")
    page.get_by_label("Status").select_option("sent")
    page.get_by_role("cell", name="fay@example.org").wait_for()
    page.get_by_role("cell", name="gone@example.org").wait_for(state="detached")
    shot(page, "campaign")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download report (CSV)").click()
    assert download.value.suggested_filename == f"campaign-{cid}.csv"
    report = Path(download.value.path()).read_text()
    assert report.splitlines()[0].startswith("email") or "email" in report.splitlines()[0]
    assert "fay@example.org" in report

    page.get_by_role("link", name="← All campaigns").click()
    row = page.get_by_role("row", name=re.compile("Weekly news"))
    row.get_by_role("progressbar").wait_for()
    assert row.get_by_role("progressbar").get_attribute("aria-valuenow") == "6"
    shot(page, "campaigns")

    phone = page_as("sender", viewport=PHONE)
    shot(phone, "campaigns_phone")
    phone.goto(f"{stack_http.base}/app/#/campaigns/{cid}")
    progress(phone).wait_for()
    phone.get_by_role("cell", name="gone@example.org").wait_for()
    shot(phone, "campaign_phone")


def test_given_a_viewer_then_no_start_button_and_the_api_refuses(stack_http, page_as, shot):
    status, draft, _ = stack_http.post(
        "/api/campaigns", {"name": "Viewer sees", "subject": "s", "html": "<p>h</p>"}
    )
    assert status == 201, draft
    stack_http.post(
        f"/api/campaigns/{draft['id']}/recipients", {"recipients": [{"email": "v@example.org"}]}
    )
    page = page_as("viewer")
    assert page.get_by_role("link", name="New campaign").count() == 0
    page.goto(f"{stack_http.base}/app/#/campaigns/{draft['id']}")
    page.get_by_role("heading", name=re.compile("Viewer sees")).wait_for()
    page.get_by_role("button", name="Download report (CSV)").wait_for()
    for name in ("Start", "Pause", "Resume", "Cancel", "Edit"):
        assert page.get_by_role("button", name=name, exact=True).count() == 0, name
        assert page.get_by_role("link", name=name, exact=True).count() == 0, name
    shot(page, "campaign_viewer")
    # The viewer's own signed-in cookie, with its CSRF token, is still refused by the API.
    refused = page.evaluate(
        """async (id) => {
            const me = await (await fetch("../api/me")).json();
            const reply = await fetch(`../api/campaigns/${id}/start`, {
                method: "POST", body: "{}",
                headers: {"Content-Type": "application/json", "X-CSRF-Token": me.csrf_token},
            });
            return [me.role, reply.status, (await reply.json()).error.code];
        }""",
        draft["id"],
    )
    assert refused == ["viewer", 403, "forbidden"]
    assert stack_http.get(f"/api/campaigns/{draft['id']}")[1]["status"] == "draft"
    page.goto(f"{stack_http.base}/app/#/campaigns/new")
    page.get_by_text("Your role may not open this page.").wait_for()


def test_given_a_draft_then_the_preview_renders_it_and_a_test_reaches_my_inbox(
    browser_stack, stack_http, page_as, shot
):
    if not has_route(stack_http, "/api/campaigns/{campaign_id}/preview"):
        pytest.skip("pending: POST /api/campaigns/{id}/preview and /test (branch i14-preview)")
    # A mailbox of its own: a proof counts against the mailbox's limits.
    status, mailbox, _ = stack_http.post(
        "/api/mailboxes", smtp_mailbox(browser_stack.smtp_port, email="proofs@acme.example")
    )
    assert status == 201, mailbox
    page = page_as("sender")
    cid = create_draft(page, "Preview me", mailbox["email"])
    upload_csv(page)
    page.get_by_label("Preview as").fill("ann@example.org")
    page.get_by_label("Preview as").press("Enter")
    page.get_by_label("Preview as").blur()
    frame = page.frame_locator("iframe.preview")
    frame.get_by_role("heading", name="Hi Ann").wait_for()
    assert page.locator("iframe.preview").get_attribute("sandbox") == ""
    # Live: an edit of the HTML shows in the server's rendering.
    page.get_by_label("HTML", exact=True).fill("<h1>Hey {{ first_name }}!</h1><p>Edited.</p>")
    frame.get_by_role("heading", name="Hey Ann!").wait_for()
    shot(page, "campaign_preview")

    assert page.get_by_label("To (up to 5, comma separated)").input_value() == EMAILS["sender"]
    page.get_by_label("Through mailbox").select_option(mailbox["id"])
    page.get_by_role("button", name="Send test").click()
    page.get_by_text(f"Test sent to {EMAILS['sender']}.").wait_for()
    status, outbox, _ = stack_http.get(f"/_local/outbox?to={EMAILS['sender']}", token="")
    assert status == 200
    (proof,) = outbox["items"]
    assert proof["subject"].endswith("Hello Ann"), proof["subject"]
    assert "Hey Ann!" in proof["html"]
    stats = stack_http.get(f"/api/campaigns/{cid}/stats")[1]
    assert stats["sent"] == 0  # a proof is not in the campaign's stats
