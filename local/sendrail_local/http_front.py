"""The HTTP front: each request becomes the API Gateway event the same handler gets in
AWS: the readers' routes (``sendrail.api_routes.READER_ROUTES``, where sent links point)
as the tracking HTTP API's payload 2.0 events, everything else as a REST proxy event;
``/_local/*`` is served here (never deployed)."""

from __future__ import annotations

import base64
import json
import logging
import sys
import threading
from contextlib import nullcontext
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sendrail.api_routes import function_for, reader_route
from sendrail.clock import to_rfc3339

from sendrail_local.events import api_gateway_event, http_api_event

log = logging.getLogger("sendrail.local.http")
MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit
SOCKET_TIMEOUT = 30.0  # API Gateway's integration timeout is 29 s
ALLOW = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"


class Front(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], stack: Any) -> None:
        super().__init__(address, _Handler)
        self.stack = stack

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up before its answer (a timed-out poll) is not our failure.
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("%s went away before its answer", client_address)
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: Front
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # no HTTP/0.9: every answer has a status line
    timeout = SOCKET_TIMEOUT  # every read and write on the connection; a silent client is dropped

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # Every method API Gateway passes on goes through the same door; any other is a 405.
    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def __getattr__(self, name: str) -> Any:
        # http.server looks up ``do_<METHOD>`` and answers 501 in HTML when it is missing.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _method_not_allowed(self) -> None:
        self.close_connection = True  # its body (if any) was not read
        self._error(405, "method_not_allowed", f"{self.command} is not allowed", {"Allow": ALLOW})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, headers too long…), in the
        contract's error shape rather than its HTML page."""
        self.close_connection = True
        try:
            status = HTTPStatus(code)
        except ValueError:
            status = HTTPStatus.BAD_REQUEST
        self._error(status.value, status.name.lower(), message or status.phrase)

    def _reply(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        self.send_response(status)
        sent = {k.lower() for k in (headers or {})}
        if "content-type" not in sent:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._reply(status, json.dumps(payload, default=str).encode(), headers)

    def _error(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self._json(status, {"error": {"code": code, "message": message, "details": []}}, headers)

    def _body(self) -> bytes | None:
        """The request body, read to its declared length and no further; ``None`` once the
        refusal has been sent (the connection then closes: what follows cannot be trusted)."""
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            self._error(411, "length_required", "send the body with a Content-Length")
            return None
        declared = self.headers.get_all("Content-Length") or []
        values = {v.strip() for v in declared}
        if len(values) > 1 or any(not v.isascii() or not v.isdigit() for v in values):
            self.close_connection = True
            self._error(400, "bad_request", "Content-Length must be one non-negative integer")
            return None
        length = int(values.pop()) if values else 0
        if length > MAX_BODY:
            self.close_connection = True
            self._error(413, "payload_too_large", "the request body is larger than 10 MB")
            return None
        if not length:
            return b""
        try:
            body = self.rfile.read(length)
        except TimeoutError:
            body = b""
        if len(body) < length:
            self.close_connection = True
            self._error(400, "bad_request", "the request body is shorter than its Content-Length")
            return None
        return body

    def _handle(self) -> None:
        stack = self.server.stack
        parts = urlsplit(self.path)
        body = self._body()
        if body is None:
            return
        # HEAD is GET without the body (the body is dropped in _reply).
        method = "GET" if self.command == "HEAD" else self.command
        if parts.path.startswith("/_local/"):
            # Moving the clock or firing a schedule takes the world exclusively (the
            # scheduler does); the other local routes only read.
            self._local(method, parts.path, parts.query, body)
            return
        function = function_for(parts.path)
        if function is None:
            self._error(404, "not_found", "no such route")
            return
        headers = {k: v for k, v in self.headers.items()}
        # Requests run side by side; only a clock advance excludes them (virtual clock).
        guard = stack.world.reader if stack.clock.virtual else nullcontext()
        route_key = reader_route(method, parts.path)
        request = (parts.path, parts.query, headers, body)
        with guard:
            client, now = self.client_address[0], stack.clock.now()
            event = (
                http_api_event(route_key, *request, source_ip=client, now=now)
                if route_key
                else api_gateway_event(method, *request, source_ip=client, now=now)
            )
            try:
                result = stack.functions.invoke(function, event)
            except Exception:
                log.exception("%s failed", function)
                self._error(502, "bad_gateway", "the function failed")
                return
        self._from_lambda(result)

    def _from_lambda(self, result: dict[str, Any]) -> None:
        headers: dict[str, str] = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values) if name.lower() != "set-cookie" else values[-1]
        if result.get("cookies"):  # payload 2.0's answer carries its cookies apart
            headers["Set-Cookie"] = result["cookies"][-1]
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
        self._reply(int(result.get("statusCode", 200)), body, headers)

    # --- /_local ---------------------------------------------------------------------------

    def _local(self, method: str, path: str, query: str, body: bytes) -> None:
        stack = self.server.stack
        if path == "/_local/outbox" and method == "GET":
            to = parse_qs(query).get("to", [None])[-1]
            self._json(200, {"items": [i.as_json() for i in stack.outbox.items(to)]})
        elif path == "/_local/outbox" and method == "DELETE":
            self._json(200, {"cleared": stack.outbox.clear()})
        elif path == "/_local/clock" and method == "GET":
            self._json(200, {"now": to_rfc3339(stack.clock.now()), "virtual": stack.clock.virtual})
        elif path == "/_local/clock/advance" and method == "POST":
            self._advance(body)
        elif path.startswith("/_local/run/") and method == "POST":
            name = path.rsplit("/", 1)[-1]
            if stack.scheduler.run_now(name):
                self._json(200, {"ran": name, "now": to_rfc3339(stack.clock.now())})
            else:
                self._error(404, "not_found", f"no scheduled function {name}")
        else:
            self._error(404, "not_found", "no such local route")

    def _advance(self, body: bytes) -> None:
        stack = self.server.stack
        if not stack.clock.virtual:
            self._error(409, "conflict", "start with SENDRAIL_VIRTUAL_CLOCK to move time")
            return
        try:
            payload = json.loads(body or b"{}")
            seconds = float(payload["seconds"])
        except (ValueError, KeyError, TypeError):
            self._error(422, "validation_failed", 'send {"seconds": <number>}')
            return
        if not 0 <= seconds <= 400 * 86400:
            self._error(422, "validation_failed", "seconds must be between 0 and 400 days")
            return
        fired = stack.scheduler.advance(seconds)
        self._json(200, {"now": to_rfc3339(stack.clock.now()), "fired": fired})


def serve(stack: Any, host: str, port: int) -> tuple[Front, threading.Thread]:
    front = Front((host, port), stack)
    thread = threading.Thread(target=front.serve_forever, name="http-front", daemon=True)
    thread.start()
    return front, thread
