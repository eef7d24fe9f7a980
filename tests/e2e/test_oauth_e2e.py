"""Gmail and Outlook through the local stack (``make run``): connect a mailbox over HTTP
by following its consent link to the stack's fake Google or Microsoft and back to
``/oauth/callback``, then send a campaign across token expiries on the virtual clock."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Stack, start_stack, stop_stack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-oauth")]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = start_stack(tmp_path_factory.mktemp("oauth"))
    yield running
    stop_stack(running)


def consent(link: str) -> str:
    """What the browser does: the provider redirects back with a code (the fake's
    Microsoft speaks HTTPS with its own certificate, so this client does not check it)."""
    assert urlsplit(link).hostname == "127.0.0.1", link
    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=insecure))
    try:
        opener.open(link, timeout=30)
    except urllib.error.HTTPError as redirect:
        return str(redirect.headers["Location"])
    raise AssertionError("no redirect from the authorization endpoint")


@pytest.mark.parametrize("provider", ["gmail", "outlook"])
def test_given_the_local_stack_then_an_oauth_mailbox_connects_and_sends(local: Stack, provider):
    api = local.http
    status, mailbox, _ = api.post(
        "/api/mailboxes",
        {"provider": provider, "email": f"team@{provider}.example", "daily_limit": 1000},
    )
    assert status == 201 and mailbox["status"] == "pending_auth", mailbox
    back = consent(mailbox["authorize_url"])
    assert back.startswith(api.base + "/oauth/callback?")
    status, page, _ = api.get(back[len(api.base) :], token="")
    assert status == 200 and "connected" in str(page)
    assert api.get(f"/api/mailboxes/{mailbox['id']}")[1]["status"] == "active"

    status, created, _ = api.post(
        "/api/campaigns",
        {
            "name": provider,
            "subject": f"via {provider}",
            "html": "<p>hello</p>",
            "mailbox_ids": [mailbox["id"]],
        },
    )
    cid = created["id"]
    rows = [{"email": f"{provider}-{i}@example.org"} for i in range(4)]
    assert api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows})[0] == 200
    assert api.post(f"/api/campaigns/{cid}/start")[0] == 202
    before = api.get(f"/api/mailboxes/{mailbox['id']}")[1]["token_expires_at"]
    api.advance(3 * 3600)  # three hours: the token_refresh schedule keeps the token fresh
    after = api.get(f"/api/mailboxes/{mailbox['id']}")[1]
    assert after["status"] == "active" and after["token_expires_at"] > before
    assert api.get(f"/api/campaigns/{cid}/stats")[1]["sent"] == 4
    received = api.get("/_local/outbox", token="")[1]["items"]
    mine = [m for m in received if m["subject"] == f"via {provider}"]
    assert sorted(m["to"] for m in mine) == sorted(r["email"] for r in rows)
    assert {m["mailbox_id"] for m in mine} == {mailbox["id"]}
