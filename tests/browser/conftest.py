"""The dashboard in a real browser: Debian's Chromium driven by Playwright's Python package,
against one local stack (``python -m sendrail_local``, as ``make run``) shared by every
browser test. All of them run in one xdist group, so ``-n 2 --dist loadgroup`` starts one
stack and one browser for the lot.

Screenshots go to ``build/screenshots/<name>.png`` (look at them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import smtp_mailbox
from tests.e2e.conftest import Http, Stack, start_stack, stop_stack
from tests.fakes.dns_server import DnsServer

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"
EMAILS = {role: f"{role}@acme.example" for role in ("owner", "sender", "viewer")}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Every module of tests/browser: ``pytestmark = MARKS`` (one worker, one stack, one browser).
MARKS = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]
# The stack's DNS: a server on 127.0.0.1 that answers (unknown names NXDOMAIN). Nothing
# answering at all would hang the check under the virtual clock (dnspython's lifetime reads
# time.time(), which the clock freezes), so the mailbox page's panel has real answers.
AUTH_DOMAIN = "auth-shop.example"
DNS_ZONE = [
    f'{AUTH_DOMAIN}. 300 IN TXT "v=spf1 include:_spf.google.com ~all"',
    f'_dmarc.{AUTH_DOMAIN}. 300 IN TXT "v=DMARC1; p=none"',
    f"{AUTH_DOMAIN}. 300 IN MX 10 mx.{AUTH_DOMAIN}.",
]


@pytest.fixture(scope="session")
def browser_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Given the local stack with a virtual clock, an SMTP mailbox on its sink, and an
    owner, a sender and a viewer who sign in with a password."""
    dns = DnsServer(DNS_ZONE).start()
    running = start_stack(
        tmp_path_factory.mktemp("browser-stack"), extra_env={"SENDRAIL_DNS_PORT": str(dns.port)}
    )
    try:
        http = running.http
        for role, email in EMAILS.items():
            status, body, _ = http.post(
                "/api/users", {"email": email, "role": role, "password": PASSWORD}
            )
            assert status == 201, body
        yield running
    finally:
        stop_stack(running)
        dns.stop()


@pytest.fixture(scope="session")
def stack_http(browser_stack: Stack) -> Http:
    return browser_stack.http


@pytest.fixture(scope="session")
def mailbox(browser_stack: Stack) -> dict[str, Any]:
    """An SMTP mailbox that sends three an hour into the stack's sink."""
    status, body, _ = browser_stack.http.post(
        "/api/mailboxes",
        smtp_mailbox(browser_stack.smtp_port, email="news@acme.example", hourly_limit=3),
    )
    assert status == 201, body
    return dict(body)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session", autouse=False)
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def shot(screenshots: Path) -> Callable[[Any, str], Path]:
    def take(page: Any, name: str) -> Path:
        path = screenshots / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


class PageErrors:
    """Console errors and uncaught exceptions of the pages a test opened."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def watch(self, page: Any) -> None:
        page.on("pageerror", lambda error: self.items.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: (
                self.items.append(f"console: {message.text}")
                # A refused request (the 401 before sign-in, a 403 a test provokes) is logged
                # by the browser as a failed resource; the page shows those itself.
                if message.type == "error" and "Failed to load resource" not in message.text
                else None
            ),
        )


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page_as(
    browser: Any, browser_stack: Stack, page_errors: PageErrors
) -> Iterator[Callable[..., Any]]:
    """``page_as(role, viewport=DESKTOP)``: a fresh browser context signed in through the
    login page with that role's email and password."""
    contexts: list[Any] = []

    def open_as(role: str, viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(viewport=viewport or DESKTOP)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page_errors.watch(page)
        page.goto(f"{browser_stack.http.base}/app/")
        page.get_by_label("Email").fill(EMAILS[role])
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.get_by_role("heading", name="Campaigns", level=1).wait_for()
        return page

    yield open_as
    for context in contexts:
        context.close()
    assert not page_errors.items, page_errors.items
