"""The local HTTP front (``make run``), spoken to over raw sockets: hostile framing is
refused in the contract's error shape, never a hang; unknown methods are 405; requests run
side by side, so a slow one holds up nobody and none reads another's identity."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ADMIN, OWNER, Stack, start_stack, stop_stack
from tests.e2e.test_oauth_e2e import consent

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-front")]

BOUND = 20.0  # seconds before a test gives up on an answer (a hang fails, never waits forever)


class SlowProvider:
    """Google's token endpoint that holds every request until the test lets it go."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                provider.arrived.set()
                provider.release.wait(BOUND * 3)
                body = json.dumps({"error": "invalid_grant"}).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def slow() -> Iterator[SlowProvider]:
    provider = SlowProvider()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory, slow: SlowProvider) -> Iterator[Stack]:
    running = start_stack(
        tmp_path_factory.mktemp("front"), extra_env={"SENDRAIL_GOOGLE_TOKEN_URI": slow.url}
    )
    yield running
    stop_stack(running)


def _port(stack: Stack) -> int:
    return int(urlsplit(stack.http.base).port or 0)


def raw(
    stack: Stack, data: bytes, *, half_close: bool = False
) -> tuple[int, dict[str, str], bytes]:
    """Sends ``data`` as is and reads one response (the server closes after a refusal)."""
    with socket.create_connection(("127.0.0.1", _port(stack)), timeout=BOUND) as conn:
        conn.sendall(data)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(conn)
        response.begin()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def _error_code(body: bytes) -> str:
    payload = json.loads(body)
    assert set(payload["error"]) == {"code", "message", "details"}, payload
    return str(payload["error"]["code"])


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "+5", " ", "5, 6"])
def test_given_a_bad_content_length_then_400_in_the_error_shape(front: Stack, length: str) -> None:
    status, headers, body = raw(
        front,
        f"POST /api/campaigns HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode(),
    )
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert _error_code(body) == "bad_request"


def test_given_two_different_content_lengths_then_400(front: Stack) -> None:
    status, _, body = raw(
        front,
        b"POST /api/campaigns HTTP/1.1\r\nHost: x\r\n"
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    )
    assert status == 400 and _error_code(body) == "bad_request"


def test_given_a_body_over_the_limit_then_413_before_reading_it(front: Stack) -> None:
    status, headers, body = raw(
        front, b"POST /api/campaigns HTTP/1.1\r\nHost: x\r\nContent-Length: 10485761\r\n\r\n"
    )
    assert status == 413 and _error_code(body) == "payload_too_large"
    assert headers["connection"] == "close"


def test_given_a_body_shorter_than_declared_then_400_not_a_hang(front: Stack) -> None:
    status, _, body = raw(
        front,
        b'POST /api/campaigns HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"name"',
        half_close=True,
    )
    assert status == 400 and _error_code(body) == "bad_request"


def test_given_a_chunked_body_then_411(front: Stack) -> None:
    status, _, body = raw(
        front,
        b"POST /api/campaigns HTTP/1.1\r\nHost: x\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    assert status == 411 and _error_code(body) == "length_required"


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "BREW", "PROPFIND"])
def test_given_trace_or_an_unknown_method_then_405_with_allow(front: Stack, method: str) -> None:
    status, headers, body = raw(front, f"{method} /health HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 405 and _error_code(body) == "method_not_allowed"
    assert set(headers["allow"].split(", ")) == {
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
        "OPTIONS",
    }
    assert "TRACE" not in headers["allow"]


def test_given_a_malformed_request_line_then_400_in_the_error_shape(front: Stack) -> None:
    status, _, body = raw(front, b"GET\r\n\r\n")
    assert status == 400 and _error_code(body) == "bad_request"


def test_given_head_then_the_get_headers_without_a_body(front: Stack) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", _port(front), timeout=BOUND)
    conn.request("GET", "/health")
    got = conn.getresponse()
    get_body = got.read()
    conn.request("HEAD", "/health")  # the same connection: HEAD must leave it usable
    head = conn.getresponse()
    assert head.status == 200 and head.read() == b""
    assert head.getheader("Content-Length") == str(len(get_body))
    conn.request("GET", "/health")
    assert conn.getresponse().status == 200
    conn.close()


def test_given_head_on_a_local_route_then_it_answers_like_get(front: Stack) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", _port(front), timeout=BOUND)
    conn.request("HEAD", "/_local/clock")
    reply = conn.getresponse()
    assert reply.status == 200 and reply.read() == b""
    conn.close()


def test_given_keep_alive_then_one_connection_serves_several_requests(front: Stack) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", _port(front), timeout=BOUND)
    for _ in range(3):
        conn.request("GET", "/api/me", headers={"Authorization": f"Bearer {OWNER}"})
        reply = conn.getresponse()
        assert reply.status == 200 and json.loads(reply.read())["role"] == "owner"
    conn.close()


def _slow_callback_holds_up_nobody(stack: Stack, slow: SlowProvider, email: str) -> None:
    # Given a Gmail mailbox whose consent came back, and Google's token endpoint stuck
    api = stack.http
    status, mailbox, _ = api.post(
        "/api/mailboxes", {"provider": "gmail", "email": email, "daily_limit": 10}
    )
    assert status == 201, mailbox
    back = consent(mailbox["authorize_url"])
    outcome: dict[str, int] = {}

    def callback() -> None:
        outcome["status"] = api.get(back[len(api.base) :], token="", timeout=BOUND * 3)[0]

    stuck = threading.Thread(target=callback)
    stuck.start()
    try:
        # When the callback is inside the handler, waiting on the provider
        assert slow.arrived.wait(BOUND), "the callback never reached the provider"
        # Then /health and an authenticated call (the same function) answer meanwhile
        assert api.get("/health", token="", timeout=BOUND)[0] == 200
        assert api.get("/api/me", timeout=BOUND)[0] == 200
        assert stuck.is_alive() and not slow.release.is_set()
    finally:
        slow.release.set()
        stuck.join(BOUND * 3)
    # And the slow request itself ends in a 4xx once the provider answers
    assert 400 <= outcome["status"] < 500


def test_given_a_slow_request_then_health_and_other_calls_still_answer(
    front: Stack, slow: SlowProvider
) -> None:
    _slow_callback_holds_up_nobody(front, slow, "slow@gmail.example")


def test_given_the_wall_clock_then_a_slow_request_holds_up_nobody_either(
    tmp_path: Path,
) -> None:
    slow = SlowProvider()
    stack = start_stack(
        tmp_path, virtual_clock=None, extra_env={"SENDRAIL_GOOGLE_TOKEN_URI": slow.url}
    )
    try:
        _slow_callback_holds_up_nobody(stack, slow, "wall@gmail.example")
    finally:
        stop_stack(stack)
        slow.stop()


def test_given_concurrent_callers_then_each_sees_only_its_own_identity(front: Stack) -> None:
    # Given a second tenant beside the default one
    api = front.http
    status, other, _ = api.post(
        "/api/admin/tenants", {"name": "Other", "owner_email": "o@other.example"}, token=ADMIN
    )
    assert status == 201, other
    keys = {OWNER: "ten_default", other["owner_key"]: other["id"]}

    def me(key: str) -> tuple[str, Any]:
        code, body, _ = api.get("/api/me", token=key, timeout=BOUND)
        assert code == 200, body
        return keys[key], body["tenant_id"]

    # When both tenants call at once, many times over
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(me, [k for _ in range(40) for k in keys]))
    # Then nobody was answered as the other tenant
    assert all(expected == got for expected, got in answers), answers


def test_given_concurrent_uploads_then_each_campaign_gets_only_its_own_rows(front: Stack) -> None:
    """The recipients route reads the request body after its first AWS calls: a request
    state shared between threads would file one tenant's rows into another's campaign."""
    api = front.http
    status, other, _ = api.post(
        "/api/admin/tenants", {"name": "Uploads", "owner_email": "u@up.example"}, token=ADMIN
    )
    assert status == 201, other
    owners = {"a.example": OWNER, "b.example": other["owner_key"]}
    campaign = {}
    for domain, key in owners.items():
        status, created, _ = api.post(
            "/api/campaigns", {"name": domain, "subject": "s", "html": "<p>x</p>"}, token=key
        )
        assert status == 201, created
        campaign[domain] = created["id"]

    def upload(job: tuple[str, int]) -> int:
        domain, i = job
        rows = [{"email": f"r{i}-{n}@{domain}"} for n in range(3)]
        path = f"/api/campaigns/{campaign[domain]}/recipients"
        return api.post(path, {"recipients": rows}, token=owners[domain], timeout=BOUND)[0]

    jobs = [(domain, i) for i in range(30) for domain in owners]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(upload, jobs)) <= {200, 202}
    for domain, key in owners.items():
        path = f"/api/campaigns/{campaign[domain]}/recipients?limit=500"
        status, listed, _ = api.get(path, token=key)
        assert status == 200, listed
        emails = {item["email"] for item in listed["items"]}
        assert emails == {f"r{i}-{n}@{domain}" for i in range(30) for n in range(3)}


def test_given_requests_in_flight_then_the_clock_advance_still_runs(front: Stack) -> None:
    api = front.http
    with ThreadPoolExecutor(max_workers=4) as pool:
        calls = [pool.submit(api.get, "/api/me", timeout=BOUND) for _ in range(12)]
        moved = api.advance(60)
        assert all(c.result()[0] == 200 for c in calls)
    assert moved["now"] > "2026-11-23T08:00:00Z"


def test_given_the_stack_log_then_nothing_failed_inside_the_front(front: Stack) -> None:
    text = Path(front.log).read_text()
    assert "Traceback" not in text, text[-3000:]
