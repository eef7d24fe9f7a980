"""The SSRF guard end to end (issue 12, item 2): mailbox hosts checked on save, refused at
connect time on a deployment that does not allow private hosts, connections pinned to the
address that was checked (TLS still checks the name), no remote text in ``last_error`` or
logs, and SNS certificate URLs parsed strictly and fetched through the same guard."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sendrail.providers.egress import EgressPolicy
from sendrail.providers.smtp import GuardedSMTP
from sendrail.services.sns import SnsPolicy

from tests.conftest import Api, _reset_function_caches, free_port, run_dispatch, smtp_mailbox

START = "2026-11-23T08:00:00Z"
SECRET = "SECRET-7f3a9c-internal.corp.example"

# The hosts the probe got accepted (issue 12) that a save can refuse by themselves.
REFUSED_ON_SAVE = [
    "127.0.0.1",
    "169.254.169.254",
    "::1",
    "10.0.0.1",
    "fd00:ec2::254",
    "localhost",
    "0.0.0.0",
    "metadata.google.internal",
]


@pytest.fixture
def aws_default(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Given the deployment's default (AWS): private hosts not allowed."""
    monkeypatch.setenv("SENDRAIL_ALLOW_PRIVATE_HOSTS", "false")
    _reset_function_caches()
    yield
    _reset_function_caches()


def _campaign(api: Api, emails: list[str]) -> str:
    cid = api.post("/api/campaigns", {"name": "c", "subject": "Hi", "html": "<p>x</p>"}).body["id"]
    api.post(f"/api/campaigns/{cid}/recipients", {"recipients": [{"email": e} for e in emails]})
    assert api.post(f"/api/campaigns/{cid}/start").status == 202
    return str(cid)


def _rows(api: Api, cid: str) -> dict[str, dict[str, Any]]:
    items = api.get(f"/api/campaigns/{cid}/recipients?limit=500").body["items"]
    return {r["email"]: r for r in items}


# --- on save ---------------------------------------------------------------------------------


@pytest.mark.parametrize("host", REFUSED_ON_SAVE)
def test_given_the_default_deployment_when_a_mailbox_names_a_forbidden_host_then_422(
    api, tenant, aws_default, host
):
    reply = api.post("/api/mailboxes", {**smtp_mailbox(25), "smtp": {"host": host, "port": 25}})
    assert reply.status == 422, reply.raw
    assert reply.body["error"]["details"][0]["field"] == "smtp.host"


def test_given_the_default_deployment_when_a_patch_names_a_forbidden_host_then_422(
    api, tenant, aws_default
):
    box = api.post(
        "/api/mailboxes", {**smtp_mailbox(25), "smtp": {"host": "smtp.example.com", "port": 25}}
    )
    assert box.status == 201, box.raw
    reply = api.patch(
        f"/api/mailboxes/{box.body['id']}", {"smtp": {"host": "169.254.169.254", "port": 25}}
    )
    assert reply.status == 422
    assert reply.body["error"]["details"][0]["field"] == "smtp.host"


@pytest.mark.parametrize(
    "host", ["evil.com\r\nX", "http://evil.com", "evil.com:25", "evil .com", "", "a" * 254]
)
def test_given_bad_host_syntax_then_422_even_where_private_hosts_are_allowed(api, tenant, host):
    reply = api.post("/api/mailboxes", {**smtp_mailbox(25), "smtp": {"host": host, "port": 25}})
    assert reply.status == 422, reply.raw
    assert {d["field"] for d in reply.body["error"]["details"]} == {"smtp.host"}


def test_given_the_setting_then_it_reaches_every_function_s_provider_config(aws, monkeypatch):
    from functions.dispatch.wiring import wiring as dispatch_wiring
    from functions.enqueue.wiring import providers
    from functions.tracking.wiring import sns_policy

    for value, expected in (("true", True), ("false", False)):
        monkeypatch.setenv("SENDRAIL_ALLOW_PRIVATE_HOSTS", value)
        _reset_function_caches()
        assert providers().allow_private_hosts is expected
        assert dispatch_wiring.providers().allow_private_hosts is expected
        assert sns_policy().allow_private_hosts is expected
    monkeypatch.delenv("SENDRAIL_ALLOW_PRIVATE_HOSTS")
    _reset_function_caches()
    assert providers().allow_private_hosts is False  # the default: AWS


# --- at connect time -------------------------------------------------------------------------


def test_given_a_saved_loopback_mailbox_when_the_deployment_refuses_private_hosts_then_paused(
    api, tenant, sink, monkeypatch
):
    server, outbox = sink
    with time_machine.travel(START, tick=False):
        # Given: a mailbox saved where private hosts were allowed (or before the guard).
        box = api.post("/api/mailboxes", smtp_mailbox(server.port)).body
        cid = _campaign(api, ["a@example.com"])
        # When: dispatch runs on a deployment that does not allow them.
        monkeypatch.setenv("SENDRAIL_ALLOW_PRIVATE_HOSTS", "false")
        _reset_function_caches()
        run_dispatch()
        # Then: nothing connected, the mailbox is paused with our classification.
        assert outbox.items() == []
        mailbox = api.get(f"/api/mailboxes/{box['id']}").body
        assert mailbox["status"] == "paused"
        assert mailbox["pause_reason"] == "SMTP host refused: a loopback address"
        assert _rows(api, cid)["a@example.com"]["status"] == "queued"


# --- no remote text --------------------------------------------------------------------------


class _SecretServer:
    """Replies carrying a secret-looking string: 550 at RCPT for ``reject-…``, 553 at MAIL
    for ``blocked-…`` senders; the greeting and EHLO name carry it too."""

    async def handle_MAIL(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("blocked"):
            return f"553 5.7.1 {SECRET} sender not allowed"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address.startswith("reject"):
            return f"550 5.7.1 {SECRET} relay for 10.9.8.7 denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        return f"250 2.0.0 queued {SECRET}"


@pytest.fixture
def secret_server() -> Iterator[int]:
    controller = Controller(_SecretServer(), hostname="127.0.0.1", port=free_port(), ident=SECRET)
    controller.start()
    yield controller.port
    controller.stop()


def test_given_replies_with_secrets_then_last_error_and_logs_carry_only_codes(
    api, tenant, secret_server, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    with time_machine.travel(START, tick=False):
        ok = api.post("/api/mailboxes", smtp_mailbox(secret_server, email="ok@example.com")).body
        cid = _campaign(api, ["reject-a@example.com"])
        run_dispatch()
        row = _rows(api, cid)["reject-a@example.com"]
        assert row["status"] == "failed"
        assert row["last_error"].endswith("rejected by server at rcpt: 550 5.7.1")
        # A sender refusal pauses the mailbox: its reason has codes only, too.
        api.post(f"/api/mailboxes/{ok['id']}/pause")
        blocked = api.post(
            "/api/mailboxes", smtp_mailbox(secret_server, email="blocked@example.com")
        ).body
        cid2 = _campaign(api, ["b@example.com"])
        run_dispatch()
        reason = api.get(f"/api/mailboxes/{blocked['id']}").body["pause_reason"]
        assert reason == "sender refused by server: 553 5.7.1"
        everything = json.dumps([_rows(api, cid), _rows(api, cid2), api.get("/api/mailboxes").body])
    out = capsys.readouterr()
    ours = "\n".join(
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records if not r.name.startswith("mail.")
    )  # the test server's own log (aiosmtpd's ``mail.log``) is not ours
    for text in (everything, ours, out.out, out.err):
        assert SECRET not in text
        assert "10.9.8.7" not in text


@pytest.fixture
def refusing_greeter() -> Iterator[int]:
    """A server whose greeting refuses with a secret in its text."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(f"554 5.3.2 {SECRET} go away\r\n".encode())

    threading.Thread(target=serve, daemon=True).start()
    yield port
    listener.close()


def test_given_a_greeting_refusal_with_secrets_then_only_codes_are_kept(
    api, tenant, refusing_greeter, caplog
):
    caplog.set_level(logging.DEBUG)
    with time_machine.travel(START, tick=False):
        api.post("/api/mailboxes", smtp_mailbox(refusing_greeter))
        cid = _campaign(api, ["a@example.com"])
        run_dispatch()
        row = _rows(api, cid)["a@example.com"]
    assert "554 5.3.2" in row["last_error"]
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.")]
    assert SECRET not in json.dumps(row) and SECRET not in "\n".join(ours)


# --- pinned connections; TLS checks the name -------------------------------------------------


def _certificate(tmp: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (tmp / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(tmp / "cert.pem", tmp / "key.pem")
    client = ssl.create_default_context(cafile=str(tmp / "cert.pem"))
    return server, client


class _Rebinding:
    """A resolver that answers 127.0.0.1 once, then the metadata address (DNS rebinding)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, host: str, port: int, *args: Any) -> list[tuple[Any, ...]]:
        self.calls += 1
        address = "127.0.0.1" if self.calls == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


class _Accept:
    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        return "250 OK"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, ssl.SSLContext]]:
    server_context, client_context = _certificate(tmp_path, "mail.sendrail.test")
    controller = Controller(
        _Accept(), hostname="127.0.0.1", port=free_port(), tls_context=server_context
    )
    controller.start()
    yield controller.port, client_context
    controller.stop()


def test_given_a_name_then_it_is_resolved_once_and_starttls_checks_the_name(tls_server):
    port, client_context = tls_server
    resolver = _Rebinding()
    policy = EgressPolicy(allow_private=True, resolve=resolver)
    conn = GuardedSMTP("mail.sendrail.test", port, timeout=5, policy=policy)
    try:
        conn.ehlo()
        code, _ = conn.starttls(context=client_context)  # verifies mail.sendrail.test
        assert code == 220
        conn.ehlo()
        assert conn.noop()[0] == 250
    finally:
        conn.close()
    assert resolver.calls == 1  # pinned: the rebinding answer was never asked for


def test_given_a_certificate_for_another_name_then_starttls_fails(tls_server):
    port, client_context = tls_server
    policy = EgressPolicy(allow_private=True, resolve=_Rebinding())
    conn = GuardedSMTP("other.sendrail.test", port, timeout=5, policy=policy)
    try:
        conn.ehlo()
        with pytest.raises(ssl.SSLCertVerificationError):
            conn.starttls(context=client_context)
    finally:
        conn.close()


# --- SNS certificate URLs --------------------------------------------------------------------

BAD_CERT_URLS = [
    "https://sns.us-east-1.amazonaws.com\n/cert.pem",
    "https://sns.us-east-1.amazonaws.com/\r\nX-Evil: 1/cert.pem",
    "https://user@sns.us-east-1.amazonaws.com/cert.pem",
    "https://user:pw@sns.us-east-1.amazonaws.com/cert.pem",
    "https://evil.example@sns.us-east-1.amazonaws.com/cert.pem",
    "http://sns.us-east-1.amazonaws.com/cert.pem",
    "ftp://sns.us-east-1.amazonaws.com/cert.pem",
    "https://sns.us-east-1.amazonaws.com:8443/cert.pem",
    "https://sns.us-east-1.amazonaws.com:abc/cert.pem",
    "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
    "https://evil.example/sns.us-east-1.amazonaws.com/cert.pem",
    "https://169.254.169.254/latest/meta-data",
    "https:///cert.pem",
    "https://sns.us-east-1.amazonaws.com /cert.pem",
    "",
]


@pytest.mark.parametrize("url", BAD_CERT_URLS)
def test_given_a_doubtful_certificate_url_then_the_policy_refuses_it(url):
    assert not SnsPolicy().allowed(url)


def test_given_a_genuine_certificate_url_then_the_policy_accepts_it():
    assert SnsPolicy().allowed(
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem"
    )


def _sns(url: str) -> dict[str, Any]:
    return {
        "Type": "Notification",
        "MessageId": "m",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
        "Timestamp": "2026-11-23T09:10:00.000Z",
        "Message": "{}",
        "SignatureVersion": "2",
        "Signature": "AAAA",
        "SigningCertURL": url,
    }


@pytest.mark.parametrize("url", BAD_CERT_URLS)
def test_given_a_doubtful_certificate_url_then_the_webhook_answers_4xx(aws_default, url):
    reply = Api("tracking").post(
        "/webhooks/ses", raw=json.dumps(_sns(url)).encode(), content_type="text/plain"
    )
    assert 400 <= reply.status < 500, reply.raw


def test_given_a_certificate_host_allowed_by_pattern_but_private_then_the_guard_refuses(
    aws_default, monkeypatch
):
    # Given: an operator's pattern that lets a private address through...
    monkeypatch.setenv("SENDRAIL_SNS_CERT_SCHEMES", '["http"]')
    monkeypatch.setenv("SENDRAIL_SNS_CERT_HOST_PATTERN", r"^10\.0\.0\.1(:\d+)?$")
    _reset_function_caches()
    # ...then the fetch still goes through the guard, which refuses it (no connection).
    from functions.tracking.wiring import sns_policy

    with pytest.raises(ValueError, match="refused"):
        sns_policy().get("http://10.0.0.1/cert.pem")
    reply = Api("tracking").post(
        "/webhooks/ses",
        raw=json.dumps(_sns("http://10.0.0.1/cert.pem")).encode(),
        content_type="text/plain",
    )
    assert reply.status == 403


def test_given_the_unspecified_address_then_it_is_refused_by_the_guard():
    assert ipaddress.ip_address("0.0.0.0").is_unspecified
    with pytest.raises(ValueError, match="unspecified"):
        SnsPolicy(host_pattern=r".*", schemes=("http",)).get("http://0.0.0.0/x")


def test_given_an_https_fetch_then_it_goes_through_the_guard_and_checks_the_certificate(
    tmp_path, aws
):
    from urllib.parse import urlsplit

    from sendrail.clock import SystemClock
    from sendrail.providers.egress import EgressRefused, http_get
    from sendrail_local.outbox import Outbox
    from sendrail_local.provider_fakes import Fakes

    running = Fakes(SystemClock(), Outbox(SystemClock()))
    running.start()
    try:
        url = urlsplit(f"{running.microsoft_base}/v2.0/.well-known/openid-configuration")
        trusting = ssl.create_default_context(cafile=running.ca_file)
        body = http_get(url, EgressPolicy(allow_private=True), context=trusting)
        assert b"token_endpoint" in body
        with pytest.raises(ssl.SSLCertVerificationError):  # the system's CAs do not know it
            http_get(url, EgressPolicy(allow_private=True))
        with pytest.raises(EgressRefused):  # the default: 127.0.0.1 is never reached
            http_get(url, EgressPolicy(), context=trusting)
    finally:
        running.stop()


# --- IMAP (the inbox watcher's connections) ---------------------------------------------------


@pytest.mark.parametrize("host", ["169.254.169.254", "::1", "10.0.0.1", "localhost"])
def test_given_the_default_deployment_when_imap_names_a_forbidden_host_then_422(
    api, tenant, aws_default, host
):
    reply = api.post(
        "/api/mailboxes",
        {
            **smtp_mailbox(25),
            "smtp": {"host": "smtp.example.com", "port": 25},
            "imap": {"host": host, "port": 993},
        },
    )
    assert reply.status == 422, reply.raw
    assert reply.body["error"]["details"][0]["field"] == "imap.host"


def test_given_the_default_deployment_then_the_watcher_never_connects_to_loopback(
    api, tenant, deps
):
    from sendrail.providers.base import ProviderConfig
    from sendrail.providers.inbox_base import InboxUnavailable
    from sendrail.services import inbox

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    port = listening.getsockname()[1]
    try:
        box = api.post(
            "/api/mailboxes",
            {**smtp_mailbox(free_port()), "imap": {"host": "127.0.0.1", "port": port}},
        ).body
        mailbox, _ = deps.mailboxes.require(tenant["id"], box["id"])
        reader = inbox.open_reader(deps, mailbox, ProviderConfig(smtp_timeout=2))
        with pytest.raises(InboxUnavailable, match="loopback"):
            list(reader.read(None, dt.datetime.now(dt.UTC), 10, lambda: False))
        listening.settimeout(0.2)
        with pytest.raises(TimeoutError):
            listening.accept()  # nobody knocked
    finally:
        listening.close()
