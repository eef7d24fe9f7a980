"""SMTP: one connection per mailbox, reused for every message of a dispatch invocation.

Classification: a 4xx reply is temporary, a 5xx reply about the recipient or content is
permanent for that recipient, an authentication or sender refusal is the mailbox's
problem. A connection lost after the message body was sent is an *unknown outcome*: the
server may have queued it, so it is never blindly resent.

Errors carry our classification plus the reply code and enhanced status code, never the
server's text (a banner or reply can hold anything: an internal service's greeting, a
secret). The connection goes through the egress guard (:mod:`sendrail.providers.egress`):
a host that is, or resolves to, a forbidden address is the mailbox's permanent problem."""

from __future__ import annotations

import contextlib
import json
import re
import smtplib
import socket
import ssl
from typing import Any

from sendrail.domain.mime import OutgoingMessage
from sendrail.domain.models import Mailbox, SmtpSecurity, SmtpSettings
from sendrail.errors import (
    MailboxSendError,
    PermanentSendError,
    TemporarySendError,
    UnknownOutcome,
    Unreachable,
)
from sendrail.providers.base import ProviderConfig, SendReceipt, Step
from sendrail.providers.egress import EgressPolicy, EgressRefused, connect

# RFC 3463 enhanced status code at the start of a reply's text: class.subject.detail.
_ENHANCED = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
# A plain address: a dot-atom local part (RFC 5322 atext, no specials) at a host name.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def smtp_path(address: str) -> str:
    """``<address>`` for MAIL FROM and RCPT TO, as ``smtplib.quoteaddr`` writes it. That
    parses every address with ``email.utils.parseaddr`` (on every send, twice); a plain
    address, which nearly all are, comes out of it as it went in, so it is not parsed."""
    return f"<{address}>" if _PLAIN_ADDRESS.fullmatch(address) else smtplib.quoteaddr(address)


# --- connections through the egress guard ---------------------------------------------------------


class GuardedSMTP(smtplib.SMTP):
    """``smtplib.SMTP`` whose TCP connection goes through :func:`connect`; STARTTLS keeps
    verifying the certificate against the host name (smtplib passes ``self._host``)."""

    def __init__(self, host: str, port: int, *, timeout: float, policy: EgressPolicy) -> None:
        self._egress = policy
        super().__init__(host, port, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return connect(host, port, timeout, self._egress, self.source_address)


class GuardedSMTPSSL(smtplib.SMTP_SSL):
    """Implicit TLS: the pinned connection wrapped with SNI and the name checked."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float,
        policy: EgressPolicy,
        context: ssl.SSLContext,
    ) -> None:
        self._egress = policy
        self._server_name = host
        super().__init__(host, port, timeout=timeout, context=context)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = connect(host, port, timeout, self._egress, self.source_address)
        return self.context.wrap_socket(sock, server_hostname=self._server_name)


def _text(reply: Any) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", "replace")
    return str(reply)


def reply_codes(code: int, message: str) -> str:
    """``"550 5.7.1"``: the reply code and, when the server gave one, the enhanced status
    code — all of a server's reply that we repeat anywhere."""
    enhanced = _ENHANCED.match(message)
    return f"{code} {enhanced.group(1)}" if enhanced else str(code)


def classify_reply(code: int, message: str, *, stage: str) -> Exception:
    codes = reply_codes(code, message)
    if 400 <= code < 500:
        return TemporarySendError(
            f"temporarily refused by server at {stage}: {codes}", reason=f"smtp_{code}"
        )
    if code in (530, 534, 535, 538):
        return MailboxSendError(
            f"authentication refused by server at {stage}: {codes}", reason=f"smtp_{code}"
        )
    if stage == "mail" and code in (550, 553, 554):
        return MailboxSendError(f"sender refused by server: {codes}", reason=f"smtp_{code}")
    return PermanentSendError(f"rejected by server at {stage}: {codes}", reason=f"smtp_{code}")


def refused_host(exc: EgressRefused) -> MailboxSendError:
    """A mailbox whose host the guard refuses cannot send until its settings change."""
    what = f"a {exc.kind} address" if exc.kind else "not a valid host name"
    return MailboxSendError(f"SMTP host refused: {what}", reason="smtp_host_refused")


def open_smtp(settings: SmtpSettings, timeout: float, policy: EgressPolicy) -> smtplib.SMTP:
    """A connection (TLS already, for implicit TLS) through the egress guard."""
    if settings.security is SmtpSecurity.TLS:
        return GuardedSMTPSSL(
            settings.host,
            settings.port,
            timeout=timeout,
            policy=policy,
            context=ssl.create_default_context(),
        )
    return GuardedSMTP(settings.host, settings.port, timeout=timeout, policy=policy)


class SmtpSender:
    def __init__(self, mailbox: Mailbox, secret: bytes | None, config: ProviderConfig) -> None:
        if mailbox.smtp is None:
            raise MailboxSendError("SMTP mailbox has no server settings", reason="smtp_config")
        self._mailbox = mailbox
        self._settings = mailbox.smtp
        self._password = json.loads(secret).get("password") if secret else None
        self._timeout = config.smtp_timeout
        self._egress = EgressPolicy(allow_private=config.allow_private_hosts)
        self._conn: smtplib.SMTP | None = None

    # --- connection ----------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        try:
            conn = open_smtp(s, self._timeout, self._egress)
            conn.ehlo()
            if s.security is SmtpSecurity.STARTTLS:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if s.username:
                conn.login(s.username, self._password or "")
        except EgressRefused as exc:
            raise refused_host(exc) from None
        except smtplib.SMTPAuthenticationError as exc:
            codes = reply_codes(exc.smtp_code, _text(exc.smtp_error))
            raise MailboxSendError(
                f"SMTP authentication refused ({codes})", reason="smtp_auth"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise MailboxSendError(
                f"SMTP server lacks a feature: {exc}", reason="smtp_config"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise classify_reply(exc.smtp_code, _text(exc.smtp_error), stage="connect") from None
        except (OSError, smtplib.SMTPException) as exc:
            # No connection, no greeting, or a broken handshake: nothing was sent.
            raise Unreachable(
                f"cannot connect to {s.host}:{s.port}: {type(exc).__name__}", reason="smtp_connect"
            ) from None
        return conn

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None

    # --- sending -------------------------------------------------------------------------

    def send(self, message: OutgoingMessage) -> SendReceipt:
        payload = message.as_bytes()
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.putcmd("mail", "FROM:" + smtp_path(message.from_email))
                code, reply = conn.getreply()
            except (smtplib.SMTPServerDisconnected, OSError):
                # A reused connection the server closed while idle: reconnect once.
                self._drop()
                if attempt == 0:
                    continue
                raise TemporarySendError(
                    "SMTP connection lost before MAIL", reason="smtp_disconnect"
                ) from None
            if code != 250:
                self._reset()
                raise classify_reply(code, _text(reply), stage="mail")
            return self._rcpt_and_data(conn, message, payload)
        raise TemporarySendError("SMTP connection unavailable", reason="smtp_disconnect")

    def _rcpt_and_data(
        self, conn: smtplib.SMTP, message: OutgoingMessage, payload: bytes
    ) -> SendReceipt:
        try:
            conn.putcmd("rcpt", "TO:" + smtp_path(message.to))
            code, reply = conn.getreply()
        except (smtplib.SMTPServerDisconnected, OSError):
            self._drop()
            raise TemporarySendError(
                "SMTP connection lost at RCPT", reason="smtp_disconnect"
            ) from None
        if code not in (250, 251):
            self._reset()
            raise classify_reply(code, _text(reply), stage="rcpt")
        try:
            code, reply = conn.data(payload)
        except smtplib.SMTPDataError as exc:
            self._reset()
            raise classify_reply(exc.smtp_code, _text(exc.smtp_error), stage="data") from None
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError):
            # The body may have reached the server: nobody knows whether it was queued.
            self._drop()
            raise UnknownOutcome(
                "SMTP connection lost during DATA", reason="smtp_data_disconnect"
            ) from None
        if code != 250:
            self._reset()
            raise classify_reply(code, _text(reply), stage="data")
        return SendReceipt(provider_message_id=_text(reply)[:200] or None)

    def _reset(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._conn.quit()
            self._drop()


# --- verification (``POST /api/mailboxes/{id}/verify``) ---------------------------------------

VERIFY_TIMEOUT = 10.0  # the API answers within API Gateway's 29 s


def verify(mailbox: Mailbox, secret: bytes | None, config: ProviderConfig) -> list[Step]:
    """Connect, STARTTLS or TLS, AUTH, then MAIL FROM and RSET: never a send. Stops at the
    first step that fails; each detail is our classification (codes, never reply text)."""
    steps: list[Step] = []
    s = mailbox.smtp
    if s is None:
        return [Step("connect", ok=False, detail="the mailbox has no SMTP settings")]
    password = json.loads(secret).get("password") if secret else None
    policy = EgressPolicy(allow_private=config.allow_private_hosts)
    timeout = min(config.smtp_timeout, VERIFY_TIMEOUT)
    conn: smtplib.SMTP | None = None
    stage = "connect"
    try:
        conn = open_smtp(s, timeout, policy)
        code, _ = conn.ehlo()
        if code != 250:
            conn.helo()
        steps.append(Step("connect", ok=True, detail=f"connected to {s.host}:{s.port}"))
        stage = "tls"
        if s.security is SmtpSecurity.STARTTLS:
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
            steps.append(Step("tls", ok=True, detail="STARTTLS, certificate verified"))
        elif s.security is SmtpSecurity.TLS:
            steps.append(Step("tls", ok=True, detail="implicit TLS, certificate verified"))
        else:
            steps.append(Step("tls", ok=True, detail="not used (security: none)"))
        stage = "auth"
        if s.username:
            conn.login(s.username, password or "")
            steps.append(Step("auth", ok=True, detail="logged in"))
        else:
            steps.append(Step("auth", ok=True, detail="no username: not attempted"))
        stage = "mail_from"
        code, reply = conn.mail(mailbox.email)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, mailbox.email)
        conn.rset()
        steps.append(Step("mail_from", ok=True, detail="sender accepted (then reset)"))
    except EgressRefused as exc:
        steps.append(Step(stage, ok=False, detail=refused_host(exc).message))
    except smtplib.SMTPNotSupportedError:
        what = "STARTTLS" if stage == "tls" else "AUTH" if stage == "auth" else "a command"
        steps.append(Step(stage, ok=False, detail=f"the server does not offer {what}"))
    except smtplib.SMTPAuthenticationError as exc:
        codes = reply_codes(exc.smtp_code, _text(exc.smtp_error))
        steps.append(Step(stage, ok=False, detail=f"authentication refused ({codes})"))
    except smtplib.SMTPResponseException as exc:
        where = "mail" if stage == "mail_from" else stage
        error = classify_reply(exc.smtp_code, _text(exc.smtp_error), stage=where)
        steps.append(Step(stage, ok=False, detail=str(error)))
    except ssl.SSLCertVerificationError:
        steps.append(Step(stage, ok=False, detail="TLS certificate not trusted for this host"))
    except ssl.SSLError as exc:
        steps.append(Step(stage, ok=False, detail=f"TLS failed ({type(exc).__name__})"))
    except (OSError, smtplib.SMTPException) as exc:
        steps.append(Step(stage, ok=False, detail=f"connection failed ({type(exc).__name__})"))
    finally:
        if conn is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                conn.quit()
            with contextlib.suppress(OSError):
                conn.close()
    return steps
