"""The local HTTP front hands each request to the real handler in the shape AWS would: the
readers' routes as the tracking HTTP API's payload 2.0 events (where sent links point now),
everything else as REST proxy events."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sendrail_local.clock import LocalClock
from sendrail_local.http_front import serve
from sendrail_local.lambdas import Functions
from sendrail_local.world import World

from tests.conftest import free_port

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0"


@dataclass
class Recording:
    """The local stack's functions, keeping every event they were given."""

    functions: Functions = field(default_factory=Functions)
    events: list[dict[str, Any]] = field(default_factory=list)

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.functions.invoke(name, event)


@dataclass
class FrontStack:
    clock: LocalClock = field(default_factory=lambda: LocalClock(None))
    world: World = field(default_factory=World)
    functions: Recording = field(default_factory=Recording)


@pytest.fixture
def front(aws: Any) -> Iterator[tuple[int, Recording]]:
    stack = FrontStack()
    port = free_port()
    server, thread = serve(stack, "127.0.0.1", port)
    yield port, stack.functions
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"User-Agent": BROWSER}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def test_given_a_pixel_then_the_handler_gets_an_http_api_event_and_the_gif_comes_back(front):
    port, recorded = front
    status, body = _request(port, "GET", "/track/open/not-a-token?x=1")
    assert status == 200 and body.startswith(b"GIF89a")
    (event,) = recorded.events
    assert event["version"] == "2.0" and event["routeKey"] == "GET /track/{proxy+}"
    assert event["rawPath"] == "/track/open/not-a-token" and event["rawQueryString"] == "x=1"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["headers"]["user-agent"] == BROWSER


@pytest.mark.parametrize(
    ("method", "path", "route_key"),
    [
        ("GET", "/track/click/x.y", "GET /track/{proxy+}"),
        ("HEAD", "/track/open/x.y", "GET /track/{proxy+}"),
        ("GET", "/unsubscribe/x.y", "GET /unsubscribe/{proxy+}"),
        ("POST", "/unsubscribe/x.y", "POST /unsubscribe/{proxy+}"),
    ],
)
def test_given_a_readers_route_then_it_arrives_as_payload_2(front, method, path, route_key):
    port, recorded = front
    body = b"List-Unsubscribe=One-Click" if method == "POST" else None
    status, _ = _request(port, method, path, body)
    assert status in (200, 404)  # a bad token: the GIF, or the not-found page
    (event,) = recorded.events
    assert (event["version"], event["routeKey"]) == ("2.0", route_key)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/health"), ("POST", "/webhooks/ses"), ("POST", "/track/open/x.y")],
)
def test_given_any_other_route_then_it_arrives_as_a_rest_event(front, method, path):
    port, recorded = front
    _request(port, method, path, b"{}" if method == "POST" else None)
    (event,) = recorded.events
    assert "version" not in event
    assert (event["httpMethod"], event["path"]) == (method, path)
