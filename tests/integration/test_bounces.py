"""Bounces and complaints: real-world DSNs classified, applied through ``POST /api/bounces``,
and SES notifications through SNS with their signatures checked against a certificate
served from 127.0.0.1."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from sendrail.services import sns
from sendrail.services.bounces import Kind, classify_dsn

from tests.conftest import Api, smtp_mailbox

CORPUS = Path(__file__).parent.parent / "data" / "dsn"
H, S = Kind.HARD, Kind.SOFT

# Real bounces from many MTAs (flufl.bounce's test data; see tests/data/dsn/NOTICE), each
# checked by reading it: "delayed"/"still being retried" notices are soft, the rest hard.
EXPECTED: dict[str, set[tuple[str, Kind]]] = {
    "aol_01.txt": {("screenname@aol.com", H)},
    "dsn_01.txt": {("userx@example.com", H)},
    "dsn_02.txt": {("zzzzz@example.uk", H)},
    "dsn_03.txt": {("userx@example.be", H)},
    "dsn_04.txt": {("haasm@yogi.urz.example.ch", H), ("userx@example.ch", H)},
    "dsn_05.txt": {("userx@example.cz", S)},
    "dsn_06.txt": {("userx@example.com", S)},
    "dsn_07.txt": {("userx@example.nz", S)},
    "dsn_08.txt": {("userx@example.de", S)},
    "dsn_09.txt": {("userx@example.com", H)},
    "dsn_10.txt": {("anne.person@dom.ain", H)},
    "dsn_11.txt": {("joem@example.com", H)},
    "dsn_12.txt": {("userx@example.jp", H)},
    "dsn_13.txt": {("userx@example.com", H)},
    "dsn_14.txt": {("userx@example.com.dk", H)},
    "dsn_15.txt": {("userx@example.com", H)},
    "dsn_16.txt": {("userx@example.com", H)},
    "dsn_17.txt": {("userx@example.fi", S), ("xxx@example.fi", S)},
    "dsn_18.txt": {("email@replaced.net", H)},
    "dumbass_01.txt": set(),  # no recipient can be told from it
    "exim_01.txt": {("userx@its.example.nl", H)},
    "groupwise_01.txt": {("userx@example.edu", H)},
    "llnl_01.txt": {("user1@example.gov", H)},
    "microsoft_01.txt": {("userx@example.com", H)},
    "microsoft_02.txt": {("userx@example.com", H)},
    "netscape_01.txt": {("aaaaa@corel.com", H), ("bbbbb@corel.com", H)},
    "postfix_01.txt": {("xxxxx@local.ie", H)},
    "postfix_02.txt": {("yyyyy@digicool.com", H)},
    "postfix_03.txt": {("ttttt@ggggg.com", H)},
    "postfix_04.txt": {("userx@mail1.example.com", H)},
    "postfix_05.txt": {("userx@example.net", H)},
    "qmail_01.txt": {("userx@example.de", H)},
    "qmail_02.txt": {("userx@example.com", H)},
    "qmail_03.txt": {("userx@example.jp", H)},
    "qmail_04.txt": {("userx@example.au", H)},
    "qmail_05.txt": {("userx@example.com", H)},
    "qmail_06.txt": {("ntl@xxx.com", H)},
    "qmail_07.txt": {("user@example.net", H)},
    "sendmail_01.txt": {("zzzzz@nfg.nl", H), ("zzzzz@shaft.coal.nl", H)},
    "simple_01.txt": {("bbbsss@example.com", H)},
    "simple_02.txt": {("userx@example.net", H)},
    "simple_03.txt": {("userx@example.za", S)},
    "simple_21.txt": {("userx@example.com", S)},
    "simple_22.txt": {("user@example.org", S)},
    "simple_28.txt": {("userx@example.com", S)},
    "smtp32_01.txt": {("userx@example.ph", H)},
    "smtp32_02.txt": {("userx@example.com", H)},
    "smtp32_03.txt": {("userx@example.com", H)},
    "yahoo_01.txt": {("userx@example.com", H)},
    "yahoo_02.txt": {("userx@example.es", H)},
    "yahoo_03.txt": {("userx@example.com", H)},
}


def test_the_corpus_is_complete():
    assert {p.name for p in CORPUS.glob("*.txt")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_given_a_real_world_bounce_then_it_is_classified(name):
    events = classify_dsn((CORPUS / name).read_bytes())
    assert {(e.email, e.kind) for e in events} == EXPECTED[name]


def test_given_a_quoted_printable_header_part_then_the_original_message_id_is_found():
    (event, _) = classify_dsn((CORPUS / "dsn_17.txt").read_bytes())
    assert event.message_id == "<mailman.150418.1209869464.31038.pray4-team@strategicnetwork.org>"


def dsn(original_message_id: str, statuses: dict[str, str]) -> bytes:
    """An RFC 3464 report, as Postfix writes them."""
    per_recipient = "".join(
        f"\nFinal-Recipient: rfc822; {address}\n"
        f"Action: {'failed' if code[0] == '5' else 'delayed'}\nStatus: {code}\n"
        f"Diagnostic-Code: smtp; 550 {code} mailbox problem\n"
        for address, code in statuses.items()
    )
    return f"""From: MAILER-DAEMON@mx.example (Mail Delivery System)
To: sender@example.com
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.example. I'm sorry to have to inform you...

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example
{per_recipient}
--B
Content-Type: text/rfc822-headers

From: sender@example.com
Message-ID: {original_message_id}
Subject: Hello

--B--
""".replace("\n", "\r\n").encode()


def test_given_status_codes_then_5xx_is_hard_and_4xx_is_soft():
    raw = dsn("<cmp_1.abc@example.com>", {"gone@x.example": "5.1.1", "full@x.example": "4.2.2"})
    events = {e.email: e for e in classify_dsn(raw)}
    assert events["gone@x.example"].kind is Kind.HARD
    assert events["full@x.example"].kind is Kind.SOFT
    assert events["gone@x.example"].message_id == "<cmp_1.abc@example.com>"


@pytest.fixture
def sent(api: Api, tenant: dict[str, Any], sink: Any, dispatch: Any) -> Iterator[Any]:
    """Given a campaign sent to ann and bob from one mailbox."""
    server, outbox = sink
    with time_machine.travel("2026-11-23T09:00:00Z", tick=False):
        mailbox = api.post("/api/mailboxes", smtp_mailbox(server.port)).body["id"]
        cid = api.post("/api/campaigns", {"name": "n", "subject": "s", "html": "<p>h</p>"}).body[
            "id"
        ]
        rows = [{"email": "ann@x.example"}, {"email": "bob@x.example"}]
        api.post(f"/api/campaigns/{cid}/recipients", {"recipients": rows})
        api.post(f"/api/campaigns/{cid}/start")
        dispatch()
        ids = {m.to: m.message_id for m in outbox.items()}
        assert set(ids) == {"ann@x.example", "bob@x.example"}
        yield cid, mailbox, ids


def test_given_a_hard_bounce_then_the_recipient_is_bounced_suppressed_and_the_mailbox_paused(
    api, sent
):
    cid, mailbox, ids = sent
    settings = api.get("/api/settings/sending").body
    settings.update(rate_min_sent=2, bounce_rate_pause=0.5)
    assert api.put("/api/settings/sending", settings).status == 200
    raw = dsn(ids["ann@x.example"], {"ann@x.example": "5.1.1"})
    reply = api.post("/api/bounces", raw=raw, content_type="message/rfc822")
    assert reply.status == 200, reply.raw
    assert reply.body["hard"] == 1 and reply.body["paused_mailboxes"] == [mailbox]
    stats = api.get(f"/api/campaigns/{cid}/stats").body
    assert (stats["sent"], stats["bounced"]) == (1, 1)
    recipients = api.get(f"/api/campaigns/{cid}/recipients").body["items"]
    assert {r["email"]: r["status"] for r in recipients} == {
        "ann@x.example": "bounced",
        "bob@x.example": "sent",
    }
    suppressed = api.get("/api/suppressions").body["items"]
    assert [(s["email"], s["reason"]) for s in suppressed] == [("ann@x.example", "bounced")]
    paused = api.get(f"/api/mailboxes/{mailbox}").body
    assert paused["status"] == "paused" and "bounce rate 50.0%" in paused["pause_reason"]
    # The same bounce again changes nothing more.
    api.post("/api/bounces", raw=raw, content_type="message/rfc822")
    assert api.get(f"/api/campaigns/{cid}/stats").body["bounced"] == 1


def test_given_a_mailbox_paused_for_its_rate_then_the_alarm_metric_is_counted(
    api, sent, published_metrics
):
    _, mailbox, ids = sent
    settings = api.get("/api/settings/sending").body
    settings.update(rate_min_sent=2, bounce_rate_pause=0.5)
    api.put("/api/settings/sending", settings)
    raw = dsn(ids["ann@x.example"], {"ann@x.example": "5.1.1"})
    assert api.post("/api/bounces", raw=raw, content_type="message/rfc822").body[
        "paused_mailboxes"
    ] == [mailbox]
    assert published_metrics["MailboxPausedForRate"] == [1.0]
    api.post("/api/bounces", raw=raw, content_type="message/rfc822")  # already paused
    assert published_metrics["MailboxPausedForRate"] == [1.0]


def test_given_a_soft_bounce_then_it_is_counted_and_nothing_suppressed(api, sent):
    cid, _, ids = sent
    raw = dsn(ids["bob@x.example"], {"bob@x.example": "4.2.2"})
    reply = api.post("/api/bounces", raw=raw, content_type="multipart/report")
    assert (reply.body["hard"], reply.body["soft"]) == (0, 1)
    assert api.get(f"/api/campaigns/{cid}/stats").body["soft_bounced"] == 1
    assert api.get("/api/suppressions").body["items"] == []


def test_given_bounces_that_match_nothing_or_another_tenant_then_nothing_changes(api, sent, admin):
    cid, _, ids = sent
    stranger = dsn("<cmp_x.y@example.com>", {"nobody@x.example": "5.1.1"})
    assert api.post("/api/bounces", raw=stranger, content_type="text/plain").body["unmatched"] == 1
    other = api.post(
        "/api/admin/tenants", {"name": "Other", "owner_email": "o@o.example"}, token=admin
    ).body["owner_key"]
    theirs = dsn(ids["ann@x.example"], {"ann@x.example": "5.1.1"})
    reply = api.post("/api/bounces", raw=theirs, content_type="message/rfc822", token=other)
    assert reply.body["unmatched"] == 1
    assert api.get(f"/api/campaigns/{cid}/stats").body["bounced"] == 0
    empty = api.post("/api/bounces", raw=b"  ", content_type="text/plain")
    assert empty.status == 422 and empty.body["error"]["code"] == "validation_failed"


# --- SES through SNS ------------------------------------------------------------------------


class _SnsHost:
    """A stand-in for sns.<region>.amazonaws.com on 127.0.0.1: serves the signing
    certificate and records subscription confirmations."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.local")])
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .sign(self.key, hashes.SHA256())
        )
        pem = cert.public_bytes(serialization.Encoding.PEM)
        self.confirmed: list[str] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/confirm"):
                    host.confirmed.append(self.path)
                    body = b"<ConfirmSubscriptionResponse/>"
                else:
                    body = pem
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def signed(self, message: dict[str, Any]) -> dict[str, Any]:
        message = {**message, "SignatureVersion": "2", "SigningCertURL": f"{self.base}/cert.pem"}
        signature = self.key.sign(sns.canonical(message), padding.PKCS1v15(), hashes.SHA256())
        return {**message, "Signature": base64.b64encode(signature).decode()}


@pytest.fixture
def sns_host(monkeypatch: pytest.MonkeyPatch, sent: Any) -> Iterator[_SnsHost]:
    from functions.tracking import wiring

    host = _SnsHost()
    monkeypatch.setenv("SENDRAIL_SNS_CERT_SCHEMES", '["http"]')
    monkeypatch.setenv("SENDRAIL_SNS_CERT_HOST_PATTERN", r"^127\.0\.0\.1:\d+$")
    wiring.reset()
    yield host
    host.server.shutdown()
    wiring.reset()


def _notification(kind: str, email: str, message_id: str) -> dict[str, Any]:
    detail: dict[str, Any]
    if kind == "Complaint":
        detail = {
            "complaint": {
                "complainedRecipients": [{"emailAddress": email}],
                "complaintFeedbackType": "abuse",
            }
        }
    else:
        detail = {
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{"emailAddress": email, "diagnosticCode": "5.1.1"}],
            }
        }
    return {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-events",
        "Timestamp": "2026-11-23T09:10:00.000Z",
        "Message": json.dumps(
            {
                "notificationType": kind,
                "mail": {"commonHeaders": {"messageId": message_id}},
                **detail,
            }
        ),
    }


def _post(message: dict[str, Any]) -> Any:
    return Api("tracking").post(
        "/webhooks/ses", raw=json.dumps(message).encode(), content_type="text/plain"
    )


def test_given_a_signed_complaint_then_the_address_is_suppressed(api, sent, sns_host):
    cid, _, ids = sent
    reply = _post(
        sns_host.signed(_notification("Complaint", "bob@x.example", ids["bob@x.example"]))
    )
    assert reply.status == 200 and reply.body["complaints"] == 1
    suppressed = api.get("/api/suppressions").body["items"]
    assert [(s["email"], s["reason"]) for s in suppressed] == [("bob@x.example", "complained")]
    assert api.get(f"/api/campaigns/{cid}/stats").body["complained"] == 1


def test_given_a_signed_permanent_bounce_then_the_recipient_is_bounced(api, sent, sns_host):
    cid, _, ids = sent
    reply = _post(sns_host.signed(_notification("Bounce", "ann@x.example", ids["ann@x.example"])))
    assert reply.status == 200 and reply.body["hard"] == 1
    assert api.get(f"/api/campaigns/{cid}/stats").body["bounced"] == 1


def test_given_forged_or_foreign_sns_messages_then_they_are_refused(api, sent, sns_host):
    _, _, ids = sent
    genuine = sns_host.signed(_notification("Complaint", "bob@x.example", ids["bob@x.example"]))
    tampered = {**genuine, "Message": genuine["Message"].replace("bob@", "ann@")}
    elsewhere = {**genuine, "SigningCertURL": "http://evil.example/cert.pem"}
    for message in (tampered, elsewhere, {**genuine, "SignatureVersion": "9"}):
        assert _post(message).status == 403
    assert Api("tracking").post("/webhooks/ses", raw=b"not json").status == 403
    assert api.get("/api/suppressions").body["items"] == []


def test_given_a_subscription_confirmation_then_it_is_confirmed_at_sns(sent, sns_host):
    message = sns_host.signed(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37",
            "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-events",
            "Message": "You have chosen to subscribe to the topic",
            "SubscribeURL": f"{sns_host.base}/confirm?Token=2336412f37",
            "Timestamp": "2026-11-23T09:00:00.000Z",
        }
    )
    assert _post(message).status == 200
    assert sns_host.confirmed == ["/confirm?Token=2336412f37"]
