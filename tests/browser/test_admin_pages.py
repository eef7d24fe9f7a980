"""The dashboard's admin pages in a real Chromium against the local stack: mailboxes
(add SMTP, pause/resume, connect Gmail through the local fake and come back), queue,
suppressions, settings, keys, and what a viewer does not see. Screenshots of each page go
to build/screenshots/admin-*.png."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import MARKS, PHONE
from tests.conftest import smtp_mailbox
from tests.e2e.conftest import Stack

pytestmark = MARKS


def open_page(page: Page, http: Any, route: str) -> None:
    page.goto(f"{http.base}/app/#/{route}")
    expect(page.locator("main h1")).to_be_visible()


def add_mailbox(stack: Stack, email: str, **extra: Any) -> dict[str, Any]:
    body = smtp_mailbox(stack.smtp_port, email=email, daily_limit=40, **extra)
    status, created, _ = stack.http.post("/api/mailboxes", body)
    assert status == 201, created
    return dict(created)


def test_given_the_mailboxes_page_when_an_owner_adds_an_smtp_server_then_it_is_listed_and_pauses(
    page_as, browser_stack, stack_http, shot
):
    page = page_as("owner")
    open_page(page, stack_http, "mailboxes")
    form = page.get_by_role("form", name="Add an SMTP server")
    form.get_by_label("Email address").fill("news@shop.example")
    form.get_by_label("From name").fill("Shop <news>")
    form.get_by_label("SMTP host").fill("127.0.0.1")
    form.get_by_label("Port").fill(str(browser_stack.smtp_port))
    form.get_by_label("Security").select_option("none")
    form.get_by_label("Daily limit").fill("120")
    form.get_by_role("button", name="Add SMTP mailbox").click()

    row = page.get_by_role("row").filter(has_text="news@shop.example")
    expect(row).to_contain_text("active")
    expect(form.get_by_label("Port")).to_have_value("587")  # the form is ready for another
    expect(row.get_by_role("progressbar")).to_have_attribute("aria-valuemax", "120")
    expect(row).to_contain_text("Shop <news>")  # as text, not markup
    expect(row).to_contain_text("0 sent in 30 days")  # GET /api/mailboxes/{id}/stats
    shot(page, "admin-mailboxes")

    row.get_by_role("button", name="Pause news@shop.example").click()
    expect(row).to_contain_text("paused")
    assert _mailbox(stack_http, "news@shop.example")["status"] == "paused"
    row.get_by_role("button", name="Resume news@shop.example").click()
    expect(row).to_contain_text("active")
    assert _mailbox(stack_http, "news@shop.example")["status"] == "active"

    row.get_by_role("button", name="Verify news@shop.example").click()
    expect(page.get_by_text("news@shop.example can send")).to_be_visible()

    row.get_by_role("button", name="Edit news@shop.example").click()
    edit = page.get_by_role("form", name="Edit news@shop.example")
    edit.get_by_label("Hourly limit").fill("25")
    edit.get_by_label("Tags").fill("news, eu")
    edit.get_by_label("Warm up this mailbox").check()
    edit.get_by_label("Start per day").fill("15")
    shot(page, "admin-mailbox-edit")
    edit.get_by_role("button", name="Save changes").click()
    expect(row).to_contain_text("15 allowed today")
    saved = _mailbox(stack_http, "news@shop.example")
    assert saved["hourly_limit"] == 25 and saved["tags"] == ["news", "eu"]
    assert saved["warmup"]["start_per_day"] == 15

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Edit news@shop.example").click()
    edit.get_by_role("button", name="Archive").click()
    expect(page.get_by_text("news@shop.example archived.")).to_be_visible()
    expect(row).to_have_count(0)
    assert _mailbox(stack_http, "news@shop.example")["status"] == "archived"


def _mailbox(http: Any, email: str) -> dict[str, Any]:
    items = http.get("/api/mailboxes?limit=500")[1]["items"]
    return dict(next(m for m in items if m["email"] == email))


def test_given_gmail_when_an_owner_connects_it_then_the_consent_returns_to_the_page_active(
    page_as, stack_http, shot
):
    page = page_as("owner")
    open_page(page, stack_http, "mailboxes")
    form = page.get_by_role("form", name="Connect Gmail or Outlook")
    form.get_by_label("Provider").select_option("gmail")
    form.get_by_label("Email address").fill("team@gmail-shop.example")
    form.get_by_role("button", name="Connect").click()

    # Off to the fake Google, which consents at once and redirects to /oauth/callback,
    # which sends the browser back here.
    page.wait_for_url(re.compile(r".*/app/#/mailboxes$"))
    expect(page.get_by_text("team@gmail-shop.example is connected and can send.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="team@gmail-shop.example")
    expect(row).to_contain_text("active")
    assert _mailbox(stack_http, "team@gmail-shop.example")["status"] == "active"
    shot(page, "admin-mailboxes-connected")

    # A mailbox made elsewhere and still waiting for consent: its row's Connect finishes it.
    status, waiting, _ = stack_http.post(
        "/api/mailboxes", {"provider": "gmail", "email": "later@gmail-shop.example"}
    )
    assert status == 201 and waiting["status"] == "pending_auth"
    page.reload()
    later = page.get_by_role("row").filter(has_text="later@gmail-shop.example")
    expect(later).to_contain_text("pending_auth")
    later.get_by_role("button", name="Connect later@gmail-shop.example").click()
    expect(page.get_by_text("later@gmail-shop.example is connected and can send.")).to_be_visible()
    expect(later).to_contain_text("active")


def test_given_the_queue_page_then_it_shows_each_server_and_retries_failed(
    page_as, browser_stack, stack_http, shot
):
    add_mailbox(browser_stack, "queue@shop.example")
    page = page_as("sender")
    open_page(page, stack_http, "queue")
    expect(page.get_by_role("region", name="Queue status")).to_contain_text("Queued")
    servers = page.get_by_role("table", name="Capacity of each mailbox now")
    expect(servers).to_contain_text("queue@shop.example")
    bar = servers.get_by_role("progressbar", name=re.compile("queue@shop.example"))
    expect(bar).to_have_attribute("aria-valuemax", "40")
    page.get_by_role("button", name="Retry failed").click()
    expect(page.get_by_text("failed recipient(s) queued again")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Clear failed").click()
    expect(page.get_by_text("cleared from the queue")).to_be_visible()
    expect(page.get_by_role("region", name="By priority")).to_contain_text("Totals:")
    shot(page, "admin-queue")


def test_given_the_suppressions_page_then_an_address_is_added_and_removed(
    page_as, stack_http, shot
):
    page = page_as("owner")
    open_page(page, stack_http, "suppressions")
    form = page.get_by_role("form", name="Suppress an address")
    form.get_by_label("Email address to suppress").fill("gone@x.example")
    form.get_by_label("Email address to suppress").press("Enter")  # the keyboard submits
    row = page.get_by_role("row").filter(has_text="gone@x.example")
    expect(row).to_contain_text("manual")
    emails = [s["email"] for s in stack_http.get("/api/suppressions")[1]["items"]]
    assert "gone@x.example" in emails
    shot(page, "admin-suppressions")
    row.get_by_role("button", name="Remove gone@x.example").click()
    expect(page.get_by_text("gone@x.example can be mailed again.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="gone@x.example")).to_have_count(0)
    emails = [s["email"] for s in stack_http.get("/api/suppressions")[1]["items"]]
    assert "gone@x.example" not in emails


def test_given_more_than_a_page_of_suppressions_then_the_page_pages_through_them(
    page_as, stack_http
):
    for i in range(51):
        status, _, _ = stack_http.post("/api/suppressions", {"email": f"p{i:02}@paging.example"})
        assert status == 201
    page = page_as("sender")
    open_page(page, stack_http, "suppressions")
    first = page.get_by_role("table", name="Page 1")
    expect(first.get_by_role("row")).to_have_count(51)  # a header and 50 addresses
    seen = set(first.locator("tbody td:first-child").all_inner_texts())
    page.get_by_role("button", name="Next page").click()
    second = page.get_by_role("table", name="Page 2")
    expect(second).to_be_visible()
    rest = set(second.locator("tbody td:first-child").all_inner_texts())
    assert rest and not rest & seen
    page.get_by_role("button", name="First page").click()
    expect(page.get_by_role("table", name="Page 1")).to_be_visible()
    for i in range(51):
        assert stack_http.call("DELETE", f"/api/suppressions/p{i:02}@paging.example")[0] == 204


def test_given_the_settings_page_when_the_send_window_changes_then_the_api_has_it(
    page_as, stack_http, shot
):
    page = page_as("owner")
    open_page(page, stack_http, "settings")
    form = page.get_by_role("form", name="Sending window and caps")
    form.get_by_label("Only send inside a window").check()
    form.get_by_label("Opens").fill("08:30")
    form.get_by_label("Closes").fill("18:15")
    form.get_by_label("Time zone").fill("Europe/Paris")
    form.get_by_label("sat").uncheck()
    form.get_by_label("sun").uncheck()
    form.get_by_label("Tenant cap per day").fill("900")
    form.get_by_role("button", name="Save sending settings").click()
    expect(page.get_by_text("Sending settings saved.")).to_be_visible()
    delivery = page.get_by_role("form", name="Delivery")
    delivery.get_by_label("Postal address").fill("1 Main St, Springfield")
    delivery.get_by_role("button", name="Save delivery settings").click()
    expect(page.get_by_text("Delivery settings saved.")).to_be_visible()
    saved = stack_http.get("/api/settings/sending")[1]
    assert saved["postal_address"] == "1 Main St, Springfield"
    assert saved["window"] == {
        "start": "08:30",
        "end": "18:15",
        "timezone": "Europe/Paris",
        "days": ["mon", "tue", "wed", "thu", "fri"],
    }
    assert saved["max_per_day"] == 900

    throttle = page.get_by_role("form", name="Add or change a domain throttle")
    throttle.get_by_label("Domain or group name").fill("gmail.com")
    throttle.get_by_label("Per hour").fill("30")
    throttle.get_by_role("button", name="Save throttle").click()
    expect(page.get_by_role("table", name="Throttles in force")).to_contain_text("gmail.com")
    shot(page, "admin-settings")

    # Back to no window, so the other tests' queues are not held.
    form.get_by_label("Only send inside a window").uncheck()
    form.get_by_role("button", name="Save sending settings").click()
    expect(page.get_by_text("Sending settings saved.")).to_be_visible()
    delivery.get_by_label("Postal address").fill("")
    delivery.get_by_role("button", name="Save delivery settings").click()
    expect(page.get_by_text("Delivery settings saved.")).to_be_visible()
    restored = stack_http.get("/api/settings/sending")[1]
    assert restored["window"] is None and restored["postal_address"] is None


def test_given_the_keys_page_then_an_owner_creates_a_key_seen_once_and_revokes_it(
    page_as, stack_http, shot
):
    page = page_as("owner")
    open_page(page, stack_http, "keys")
    form = page.get_by_role("form", name="Create an API key")
    form.get_by_label("Name").fill("ci <deploy>")
    form.get_by_label("Role").select_option("viewer")
    form.get_by_role("button", name="Create key").click()
    secret = page.get_by_role("region", name="The new key").get_by_label("Key")
    key = secret.input_value()
    assert key and stack_http.get("/api/me", token=key)[0] == 200
    shot(page, "admin-keys")

    page.reload()
    expect(page.get_by_role("table", name="Keys")).to_contain_text("ci <deploy>")
    assert key not in page.content()  # shown once: gone after a reload

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke ci <deploy>").click()
    expect(page.get_by_text("revoked.")).to_be_visible()
    assert stack_http.get("/api/me", token=key)[0] == 401


def test_given_a_viewer_then_no_button_that_would_403_is_shown(
    page_as, browser_stack, stack_http, shot
):
    warmup = {"start_per_day": 20, "increase_percent": 50, "max_per_day": 400}
    add_mailbox(browser_stack, "viewer-sees@shop.example", warmup=warmup)
    stack_http.post("/api/suppressions", {"email": "seen@x.example"})
    page = page_as("viewer")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Mailboxes")).to_be_visible()
    expect(nav.get_by_role("link", name="API keys")).to_have_count(0)

    open_page(page, stack_http, "mailboxes")
    warming = page.get_by_role("row").filter(has_text="viewer-sees@shop.example")
    expect(warming).to_contain_text("20 allowed today")  # from GET /api/mailboxes/{id}/warmup
    shot(page, "admin-mailboxes-viewer")
    for route in ("mailboxes", "queue", "suppressions"):
        open_page(page, stack_http, route)
        expect(page.get_by_role("table").first).to_be_visible()
        assert page.locator("main button").count() == 0, route
        assert page.locator("main form").count() == 0, route
    open_page(page, stack_http, "settings")
    expect(page.get_by_role("table", name="Throttles in force")).to_be_visible()
    assert page.locator("main button").count() == 0
    assert page.get_by_label("Tenant cap per day").is_disabled()
    open_page(page, stack_http, "keys")
    expect(page.get_by_text("Your role may not open this page.")).to_be_visible()


def test_given_a_phone_width_then_each_admin_page_fits(page_as, stack_http, shot):
    page = page_as("owner", PHONE)
    for route in ("mailboxes", "queue", "suppressions", "settings", "keys"):
        open_page(page, stack_http, route)
        page.wait_for_load_state("networkidle")
        shot(page, f"admin-{route}-phone")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{route} scrolls sideways by {overflow}px at 390px"
