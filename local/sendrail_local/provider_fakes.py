"""Google and Microsoft, as far as sendrail uses them, on 127.0.0.1: the authorization
endpoints (consent is given at once, for the ``login_hint`` address), the token endpoints
(codes, refresh tokens that Microsoft rotates, access tokens that expire on the stack's
clock), Gmail ``messages.send``/``messages.list`` and Graph ``sendMail``/Sent Items.

Google's side speaks plain HTTP; Microsoft's speaks HTTPS with a certificate for
127.0.0.1 made at start (msal accepts only https authorities): its CA file is
``microsoft.ca_file``. What they receive goes to the outbox (``via`` gmail or outlook).

Tests steer them: :meth:`Fakes.fail` queues answers (429 storms, daily limits, 5xx, a
timeout after the message was kept), :meth:`Fakes.revoke` revokes a user's grant, and
``expired_uses`` counts requests made with an expired token (never, if we refresh ahead)."""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from fnmatch import fnmatch
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from sendrail.clock import Clock, parse_rfc3339, to_rfc3339

from sendrail_local.outbox import Outbox

TOKEN_SECONDS = 3600
GOOGLE_CLIENT = ("local-google-client.apps.googleusercontent.com", "local-google-secret")
MICROSOFT_CLIENT = ("00000000-0000-4000-8000-00000000c11e", "local-microsoft-secret")
TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"


@dataclass
class Fault:
    """One queued answer for the next matching send: an HTTP error, or ``hang`` seconds
    of silence after the message was kept (the client times out: an unknown outcome)."""

    status: int = 500
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    hang: float = 0.0


@dataclass
class _Grant:
    email: str
    provider: str
    refresh_token: str
    revoked: bool = False


@dataclass(frozen=True)
class _Incoming:
    id: str
    history_id: int
    raw: bytes
    received_at: datetime


class _State:
    def __init__(self, clock: Clock, outbox: Outbox) -> None:
        self.clock = clock
        self.outbox = outbox
        self.lock = threading.Lock()
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (provider, email)
        self.grants: dict[str, _Grant] = {}  # refresh token -> grant
        self.access: dict[str, tuple[str, str, datetime]] = {}  # token -> provider, email, exp
        self.faults: dict[str, list[Fault]] = {"gmail": [], "outlook": []}
        self.send_latency = 0.0  # seconds each send takes before its answer (benchmarks)
        self.sent: dict[str, list[str]] = {}  # email -> Message-IDs kept
        self.expired_uses = 0
        self.refreshes: dict[str, int] = {"gmail": 0, "outlook": 0}
        # Each mailbox's inbox: what came in, in order (Gmail's history, Graph's delta).
        self.inboxes: dict[str, list[_Incoming]] = {}
        self.history_id = 1000  # Gmail's mailbox-wide history counter

    def deliver(self, email: str, raw: bytes, when: datetime | None = None) -> _Incoming:
        """Put a message into ``email``'s inbox, as the recipient's MTA would."""
        with self.lock:
            self.history_id += 1
            incoming = _Incoming(
                id=secrets.token_hex(8),
                history_id=self.history_id,
                raw=raw,
                received_at=when or self.clock.now(),
            )
            self.inboxes.setdefault(email.lower(), []).append(incoming)
        return incoming

    def inbox(self, email: str) -> list[_Incoming]:
        with self.lock:
            return list(self.inboxes.get(email.lower(), []))

    def code(self, provider: str, email: str) -> str:
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = (provider, email)
        return code

    def issue(self, provider: str, email: str, refresh: str | None = None) -> dict[str, Any]:
        access = f"{provider[:2]}-at-{secrets.token_urlsafe(18)}"
        expires = self.clock.now() + timedelta(seconds=TOKEN_SECONDS)
        with self.lock:
            self.access[access] = (provider, email, expires)
            if refresh is None:
                refresh = f"{provider[:2]}-rt-{secrets.token_urlsafe(18)}"
                self.grants[refresh] = _Grant(email, provider, refresh)
        return {
            "access_token": access,
            "expires_in": TOKEN_SECONDS,
            "refresh_token": refresh,
            "token_type": "Bearer",
        }

    def who(self, provider: str, authorization: str | None) -> str | None:
        """The address an access token belongs to; None if unknown or expired."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self.lock:
            found = self.access.get(token)
            if found is None or found[0] != provider:
                return None
            if found[2] <= self.clock.now():
                self.expired_uses += 1
                return None
            return found[1]

    def keep(self, provider: str, email: str, raw: bytes) -> str:
        message = message_from_bytes(raw, policy=policy.default)
        message_id = str(message.get("Message-ID", "")).strip()
        rcpts = [str(a).strip() for a in str(message.get("To", "")).split(",") if a.strip()]
        envelope = [r.split("<")[-1].rstrip(">") for r in rcpts]
        self.outbox.record_raw(raw, envelope_to=envelope, envelope_from=email, via=provider)
        with self.lock:
            self.sent.setdefault(email, []).append(message_id)
        return message_id

    def next_fault(self, provider: str) -> Fault | None:
        with self.lock:
            queue = self.faults[provider]
            return queue.pop(0) if queue else None


def _port(h: BaseHTTPRequestHandler) -> int:
    return int(h.server.server_address[1])  # type: ignore[index]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


class _Handler(BaseHTTPRequestHandler):
    state: _State
    routes: dict[tuple[str, str], Callable[[_Handler, dict[str, Any]], None]]
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        return None

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = {"path": parts.path, "query": parse_qs(parts.query), "body": body}
        for (verb, suffix), route in self.routes.items():
            if verb == method and fnmatch(parts.path, f"*{suffix}"):
                route(self, request)
                return
        self.reply(404, {"error": {"code": 404, "message": "not found"}})

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def reply(
        self, status: int, body: Any, headers: dict[str, str] | None = None, ctype: str = ""
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, location: str) -> None:
        self.reply(302, b"", {"Location": location}, "text/plain")

    def form(self, request: dict[str, Any]) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(request["body"].decode()).items()}

    def fault(self, provider: str, kept: Callable[[], object]) -> bool:
        """Apply the next queued fault, if any; True if it answered the request."""
        fault = self.state.next_fault(provider)
        if fault is None:
            return False
        if fault.hang:
            kept()  # the provider kept the message, but the answer never comes in time
            time.sleep(fault.hang)
            self.close_connection = True
            return True
        self.reply(fault.status, fault.body, fault.headers)
        return True


# --- Google ---------------------------------------------------------------------------------


def _google_authorize(h: _Handler, request: dict[str, Any]) -> None:
    q = {k: v[0] for k, v in request["query"].items()}
    if q.get("client_id") != GOOGLE_CLIENT[0]:
        h.reply(400, {"error": "invalid_client"})
        return
    code = h.state.code("gmail", q.get("login_hint", "user@gmail.com"))
    h.redirect(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}")


def _google_token(h: _Handler, request: dict[str, Any]) -> None:
    form = h.form(request)
    if (form.get("client_id"), form.get("client_secret")) != GOOGLE_CLIENT:
        h.reply(401, {"error": "invalid_client"})
        return
    if form.get("grant_type") == "authorization_code":
        with h.state.lock:
            found = h.state.codes.pop(form.get("code", ""), None)
        if found is None:
            h.reply(400, {"error": "invalid_grant", "error_description": "Bad code"})
            return
        h.reply(200, h.state.issue("gmail", found[1]))
        return
    grant = h.state.grants.get(form.get("refresh_token", ""))
    if grant is None or grant.revoked or grant.provider != "gmail":
        h.reply(400, {"error": "invalid_grant", "error_description": "Token has been revoked."})
        return
    h.state.refreshes["gmail"] += 1
    issued = h.state.issue("gmail", grant.email, refresh=grant.refresh_token)
    issued.pop("refresh_token")  # Google does not rotate refresh tokens
    h.reply(200, issued)


def _gmail_unauthorized(h: _Handler) -> None:
    h.reply(
        401,
        {"error": {"code": 401, "message": "Invalid Credentials", "status": "UNAUTHENTICATED"}},
    )


def _gmail_send(h: _Handler, request: dict[str, Any]) -> None:
    email = h.state.who("gmail", h.headers.get("Authorization"))
    if email is None:
        _gmail_unauthorized(h)
        return
    raw = base64.urlsafe_b64decode(json.loads(request["body"])["raw"] + "==")
    time.sleep(h.state.send_latency)
    if h.fault("gmail", lambda: h.state.keep("gmail", email, raw)):
        return
    h.state.keep("gmail", email, raw)
    h.reply(
        200, {"id": secrets.token_hex(8), "threadId": secrets.token_hex(8), "labelIds": ["SENT"]}
    )


def _gmail_list(h: _Handler, request: dict[str, Any]) -> None:
    email = h.state.who("gmail", h.headers.get("Authorization"))
    if email is None:
        _gmail_unauthorized(h)
        return
    query = request["query"].get("q", [""])[0]
    if query.startswith("in:inbox"):  # ``in:inbox after:<epoch seconds>``, newest first
        after = int(query.split("after:", 1)[1]) if "after:" in query else 0
        found = [m for m in h.state.inbox(email) if m.received_at.timestamp() > after]
        h.reply(200, _page([{"id": m.id, "threadId": m.id} for m in reversed(found)], request))
        return
    wanted = query.removeprefix("rfc822msgid:").strip()
    kept = [m for m in h.state.sent.get(email, []) if m.strip("<>") == wanted]
    h.reply(
        200,
        {
            "messages": [{"id": "m1", "threadId": "t1"}] if kept else [],
            "resultSizeEstimate": len(kept),
        },
    )


def _page(items: list[dict[str, Any]], request: dict[str, Any], key: str = "messages") -> Any:
    """Gmail's paging: ``maxResults`` and ``pageToken`` (an offset here)."""
    size = int(request["query"].get("maxResults", ["100"])[0])
    start = int(request["query"].get("pageToken", ["0"])[0])
    body: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        body["nextPageToken"] = str(start + size)
    body["resultSizeEstimate"] = len(items)
    return body


def _gmail_profile(h: _Handler, request: dict[str, Any]) -> None:
    email = h.state.who("gmail", h.headers.get("Authorization"))
    if email is None:
        _gmail_unauthorized(h)
        return
    h.reply(
        200,
        {
            "emailAddress": email,
            "messagesTotal": len(h.state.inbox(email)),
            "threadsTotal": len(h.state.inbox(email)),
            "historyId": str(h.state.history_id),
        },
    )


def _gmail_history(h: _Handler, request: dict[str, Any]) -> None:
    email = h.state.who("gmail", h.headers.get("Authorization"))
    if email is None:
        _gmail_unauthorized(h)
        return
    start = int(request["query"].get("startHistoryId", ["0"])[0])
    records = [
        {
            "id": str(m.history_id),
            "messagesAdded": [{"message": {"id": m.id, "threadId": m.id, "labelIds": ["INBOX"]}}],
        }
        for m in h.state.inbox(email)
        if m.history_id > start
    ]
    body = _page(records, request, "history")
    body["historyId"] = str(h.state.history_id)
    h.reply(200, body)


def _gmail_get(h: _Handler, request: dict[str, Any]) -> None:
    email = h.state.who("gmail", h.headers.get("Authorization"))
    if email is None:
        _gmail_unauthorized(h)
        return
    wanted = request["path"].rsplit("/", 1)[-1]
    found = next((m for m in h.state.inbox(email) if m.id == wanted), None)
    if found is None:
        h.reply(404, {"error": {"code": 404, "message": "Requested entity was not found."}})
        return
    h.reply(
        200,
        {
            "id": found.id,
            "threadId": found.id,
            "labelIds": ["INBOX", "UNREAD"],
            "historyId": str(found.history_id),
            "internalDate": str(int(found.received_at.timestamp() * 1000)),
            "raw": _b64url(found.raw),
        },
    )


# --- Microsoft ------------------------------------------------------------------------------


def _ms_openid(h: _Handler, request: dict[str, Any]) -> None:
    tenant = request["path"].split("/")[1]
    base = f"https://127.0.0.1:{_port(h)}/{tenant}"
    h.reply(
        200,
        {
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "issuer": f"https://127.0.0.1:{_port(h)}/{TENANT_ID}/v2.0",
            "response_types_supported": ["code"],
        },
    )


def _ms_authorize(h: _Handler, request: dict[str, Any]) -> None:
    q = {k: v[0] for k, v in request["query"].items()}
    if q.get("client_id") != MICROSOFT_CLIENT[0]:
        h.reply(400, {"error": "invalid_client"})
        return
    code = h.state.code("outlook", q.get("login_hint", "user@outlook.com"))
    h.redirect(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q.get('state', '')})}")


def _ms_tokens(h: _Handler, email: str, issued: dict[str, Any]) -> dict[str, Any]:
    oid = "00000000-0000-0000-" + base64.b16encode(email.encode()[:6]).decode().lower().ljust(
        12, "0"
    )
    now = int(h.state.clock.now().timestamp())
    claims = {
        "aud": MICROSOFT_CLIENT[0],
        "iss": f"https://127.0.0.1:{_port(h)}/{TENANT_ID}/v2.0",
        "iat": now,
        "nbf": now,
        "exp": now + TOKEN_SECONDS,
        "oid": oid,
        "sub": oid,
        "tid": TENANT_ID,
        "preferred_username": email,
        "name": email.split("@")[0],
        "ver": "2.0",
    }
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    id_token = f"{header}.{_b64url(json.dumps(claims).encode())}."
    client_info = _b64url(json.dumps({"uid": oid, "utid": TENANT_ID}).encode())
    return {
        **issued,
        "scope": "https://graph.microsoft.com/Mail.Send https://graph.microsoft.com/Mail.ReadBasic"
        " https://graph.microsoft.com/Mail.Read",
        "ext_expires_in": TOKEN_SECONDS,
        "id_token": id_token,
        "client_info": client_info,
    }


def _ms_token(h: _Handler, request: dict[str, Any]) -> None:
    form = h.form(request)
    if (form.get("client_id"), form.get("client_secret")) != MICROSOFT_CLIENT:
        h.reply(401, {"error": "invalid_client", "error_description": "AADSTS7000215"})
        return
    if form.get("grant_type") == "authorization_code":
        with h.state.lock:
            found = h.state.codes.pop(form.get("code", ""), None)
        if found is None:
            h.reply(400, {"error": "invalid_grant", "error_description": "AADSTS70000 bad code"})
            return
        h.reply(200, _ms_tokens(h, found[1], h.state.issue("outlook", found[1])))
        return
    with h.state.lock:
        grant = h.state.grants.get(form.get("refresh_token", ""))
        usable = grant is not None and not grant.revoked and grant.provider == "outlook"
        if usable and grant is not None:
            # Microsoft returns a new refresh token on each use: the old one is spent.
            del h.state.grants[grant.refresh_token]
    if not usable or grant is None:
        h.reply(
            400,
            {
                "error": "invalid_grant",
                "error_description": "AADSTS70008: The refresh token has expired or is revoked",
                "suberror": "bad_token",
            },
        )
        return
    h.state.refreshes["outlook"] += 1
    issued = h.state.issue("outlook", grant.email)
    if grant.revoked:
        h.state.grants[issued["refresh_token"]].revoked = True
    h.reply(200, _ms_tokens(h, grant.email, issued))


def _graph_unauthorized(h: _Handler) -> None:
    h.reply(401, {"error": {"code": "InvalidAuthenticationToken", "message": "expired"}})


def _graph_send(h: _Handler, request: dict[str, Any]) -> None:
    email = h.state.who("outlook", h.headers.get("Authorization"))
    if email is None:
        _graph_unauthorized(h)
        return
    raw = base64.b64decode(request["body"])
    time.sleep(h.state.send_latency)
    if h.fault("outlook", lambda: h.state.keep("outlook", email, raw)):
        return
    h.state.keep("outlook", email, raw)
    h.reply(202, b"", {"request-id": secrets.token_hex(8)}, "text/plain")


def _graph_me(h: _Handler, request: dict[str, Any]) -> None:
    email = h.state.who("outlook", h.headers.get("Authorization"))
    if email is None:
        _graph_unauthorized(h)
        return
    h.reply(200, {"mail": email, "userPrincipalName": email, "displayName": "Local user"})


def _graph_sent_items(h: _Handler, request: dict[str, Any]) -> None:
    email = h.state.who("outlook", h.headers.get("Authorization"))
    if email is None:
        _graph_unauthorized(h)
        return
    wanted = request["query"].get("$filter", [""])[0].split("eq", 1)[-1].strip().strip("'")
    wanted = wanted.replace("''", "'")
    kept = [m for m in h.state.sent.get(email, []) if m == wanted]
    h.reply(200, {"value": [{"id": "AAMk1"}] if kept else []})


def _graph_inbox_delta(h: _Handler, request: dict[str, Any]) -> None:
    """``/me/mailFolders/inbox/messages/delta``: the first call may filter on
    ``receivedDateTime ge``; pages follow ``@odata.nextLink`` and the last one gives an
    ``@odata.deltaLink`` that returns only what arrived after it."""
    email = h.state.who("outlook", h.headers.get("Authorization"))
    if email is None:
        _graph_unauthorized(h)
        return
    q = {k: v[0] for k, v in request["query"].items()}
    after = int(q.get("$deltatoken", "0"))
    found = [m for m in h.state.inbox(email) if m.history_id > after]
    if "$filter" in q:
        since = parse_rfc3339(q["$filter"].split(" ge ", 1)[1].strip())
        found = [m for m in found if m.received_at >= since]
    size = int(h.headers.get("Prefer", "odata.maxpagesize=10").split("=", 1)[1])
    start = int(q.get("$skiptoken", "0"))
    base = f"https://127.0.0.1:{_port(h)}{request['path']}"
    body: dict[str, Any] = {
        "value": [
            {"id": m.id, "receivedDateTime": to_rfc3339(m.received_at)}
            for m in found[start : start + size]
        ]
    }
    if start + size < len(found):
        body["@odata.nextLink"] = f"{base}?{urlencode({**q, '$skiptoken': start + size})}"
    else:
        body["@odata.deltaLink"] = f"{base}?{urlencode({'$deltatoken': h.state.history_id})}"
    h.reply(200, body)


def _graph_message_value(h: _Handler, request: dict[str, Any]) -> None:
    email = h.state.who("outlook", h.headers.get("Authorization"))
    if email is None:
        _graph_unauthorized(h)
        return
    wanted = request["path"].rsplit("/", 2)[-2]
    found = next((m for m in h.state.inbox(email) if m.id == wanted), None)
    if found is None:
        h.reply(404, {"error": {"code": "ErrorItemNotFound", "message": "not found"}})
        return
    h.reply(200, found.raw, ctype="message/rfc822")


def _self_signed(directory: Path) -> tuple[Path, Path]:
    import ipaddress  # noqa: PLC0415

    from cryptography import x509  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.x509.oid import NameOID  # noqa: PLC0415

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))  # the virtual clock may run ahead
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "microsoft-ca.pem", directory / "microsoft-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class Fakes:
    """Both providers' fakes, each a real HTTP server on 127.0.0.1."""

    def __init__(self, clock: Clock, outbox: Outbox, host: str = "127.0.0.1") -> None:
        self.state = _State(clock, outbox)
        self._dir = tempfile.TemporaryDirectory(prefix="sendrail-fakes-")
        google = type(
            "GoogleHandler",
            (_Handler,),
            {
                "state": self.state,
                "routes": {
                    ("GET", "/o/oauth2/v2/auth"): _google_authorize,
                    ("POST", "/token"): _google_token,
                    ("POST", "/users/me/messages/send"): _gmail_send,
                    ("GET", "/users/me/messages"): _gmail_list,
                    ("GET", "/users/me/messages/*"): _gmail_get,
                    ("GET", "/users/me/profile"): _gmail_profile,
                    ("GET", "/users/me/history"): _gmail_history,
                },
            },
        )
        microsoft = type(
            "MicrosoftHandler",
            (_Handler,),
            {
                "state": self.state,
                "routes": {
                    ("GET", "/v2.0/.well-known/openid-configuration"): _ms_openid,
                    ("GET", "/oauth2/v2.0/authorize"): _ms_authorize,
                    ("POST", "/oauth2/v2.0/token"): _ms_token,
                    ("POST", "/me/sendMail"): _graph_send,
                    ("GET", "/me/mailFolders/SentItems/messages"): _graph_sent_items,
                    ("GET", "/v1.0/me"): _graph_me,
                    ("GET", "/me/mailFolders/inbox/messages/delta"): _graph_inbox_delta,
                    ("GET", "/me/messages/*/$value"): _graph_message_value,
                },
            },
        )
        self.google = ThreadingHTTPServer((host, 0), google)
        self.microsoft = ThreadingHTTPServer((host, 0), microsoft)
        cert, key = _self_signed(Path(self._dir.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.microsoft.socket = context.wrap_socket(self.microsoft.socket, server_side=True)
        self.ca_file = str(cert)
        self._threads: list[threading.Thread] = []

    @property
    def google_base(self) -> str:
        return f"http://127.0.0.1:{self.google.server_address[1]}"

    @property
    def microsoft_base(self) -> str:
        return f"https://127.0.0.1:{self.microsoft.server_address[1]}"

    def env(self) -> dict[str, str]:
        """The functions' settings that point them at these fakes."""
        return {
            "SENDRAIL_GOOGLE_CLIENT_ID": GOOGLE_CLIENT[0],
            "SENDRAIL_GOOGLE_CLIENT_SECRET": GOOGLE_CLIENT[1],
            "SENDRAIL_GOOGLE_AUTH_URI": f"{self.google_base}/o/oauth2/v2/auth",
            "SENDRAIL_GOOGLE_TOKEN_URI": f"{self.google_base}/token",
            "SENDRAIL_GMAIL_API_ROOT": f"{self.google_base}/",
            "SENDRAIL_MICROSOFT_CLIENT_ID": MICROSOFT_CLIENT[0],
            "SENDRAIL_MICROSOFT_CLIENT_SECRET": MICROSOFT_CLIENT[1],
            "SENDRAIL_MICROSOFT_AUTHORITY": f"{self.microsoft_base}/common",
            "SENDRAIL_GRAPH_API_ROOT": f"{self.microsoft_base}/v1.0",
            "SENDRAIL_CA_BUNDLE": self.ca_file,
        }

    def start(self) -> None:
        for server in (self.google, self.microsoft):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for server in (self.google, self.microsoft):
            server.shutdown()
            server.server_close()
        self._dir.cleanup()

    # --- steering, for tests ----------------------------------------------------------------

    def deliver(self, email: str, raw: bytes, when: datetime | None = None) -> None:
        """Put a message into the Gmail or Outlook inbox of ``email``."""
        self.state.deliver(email, raw, when)

    def fail(self, provider: str, *faults: Fault) -> None:
        with self.state.lock:
            self.state.faults[provider].extend(faults)

    def revoke(self, email: str) -> int:
        with self.state.lock:
            grants = [g for g in self.state.grants.values() if g.email == email]
            for grant in grants:
                grant.revoked = True
            for token, (_, owner, _) in list(self.state.access.items()):
                if owner == email:
                    del self.state.access[token]
        return len(grants)

    @property
    def expired_uses(self) -> int:
        return self.state.expired_uses

    @property
    def refreshes(self) -> dict[str, int]:
        return dict(self.state.refreshes)
