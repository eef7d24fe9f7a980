"""``sendrail campaigns watch`` against a real HTTP server on 127.0.0.1: it rides out a poll
that goes unanswered (the API busy or a network blip) and still fails at once on an
answer that is an error."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sendrail_cli.client import ApiError, Client
from sendrail_cli.watch import watch

from tests.conftest import free_port


class _Api(BaseHTTPRequestHandler):
    """The first ``stall`` requests hang past the client's timeout, and so do the first
    ``stall_estimates`` requests for the ETA; the campaign is ``sending`` for its first
    ``sending`` reads, then completed (or every request 404s, for ``missing``)."""

    stall = 0
    stall_estimates = 0
    sending = 0
    missing = False
    seen = 0
    estimates = 0

    def do_GET(self) -> None:
        kind = type(self)
        kind.seen += 1
        if self.path.endswith("/estimate"):
            kind.estimates += 1
        if kind.seen <= kind.stall or (
            self.path.endswith("/estimate") and kind.estimates <= kind.stall_estimates
        ):
            time.sleep(1.0)
        if self.missing:
            self._answer(404, {"error": {"code": "not_found", "message": "no such campaign"}})
        elif self.path.endswith("/stats"):
            self._answer(200, {"total": 3, "sent": 3, "failed": 0, "bounced": 0})
        elif self.path.endswith("/estimate"):
            self._answer(200, {"completes_at": "2026-11-24T09:00:00Z"})
        else:
            kind.sending -= 1
            status = "sending" if kind.sending >= 0 else "completed"
            self._answer(200, {"id": "cmp_x", "status": status})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up on this one

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[tuple[Client, type[_Api]]]:
    handler = type("Api", (_Api,), {})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Client(f"http://127.0.0.1:{server.server_address[1]}", "t", timeout=0.3), handler
    finally:
        server.shutdown()
        server.server_close()


def test_given_a_poll_unanswered_then_watch_asks_again_and_sees_the_end(
    api: tuple[Client, type[_Api]],
) -> None:
    client, handler = api
    handler.stall = 2
    assert watch(client, "cmp_x", interval=0.01) == "completed"
    assert handler.seen > 2


def test_given_an_error_answer_then_watch_stops_at_once(
    api: tuple[Client, type[_Api]],
) -> None:
    client, handler = api
    handler.missing = True
    with pytest.raises(ApiError) as raised:
        watch(client, "cmp_x", interval=0.01)
    assert raised.value.code == "not_found" and handler.seen == 1


def test_given_the_eta_request_unanswered_then_watch_asks_again(
    api: tuple[Client, type[_Api]],
) -> None:
    client, handler = api
    handler.sending, handler.stall_estimates = 4, 2
    assert watch(client, "cmp_x", interval=0.01) == "completed"
    assert handler.estimates == 4  # two unanswered, then one for each later sending poll
