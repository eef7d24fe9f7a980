"""A real SMTP server (aiosmtpd) whose replies are scripted per recipient, for fault tests.

Behaviours are chosen by the recipient's local part:
- ``temp<N>-...``: 451 at RCPT for the first N attempts, then accepted;
- ``reject-...``: 550 at RCPT (permanent);
- ``shutdown-...``: 421 after DATA (temporary, the server closes);
- ``drop-...``: the message is received and kept, then the connection is dropped before
  the reply (the client cannot know whether it was queued);
- ``slow-...``: the message is kept, then the reply waits ``slow_seconds`` (a window in
  which a test kills the client);
anything else is accepted. ``auth_ok=False`` refuses every login (535). ``data_delay``
makes every DATA answer wait (a remote relay); ``peak`` and ``peak_by_sender`` record the
most DATA commands in progress at once, in all and per MAIL FROM address."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


@dataclass
class Delivered:
    to: str
    message_id: str
    subject: str
    raw: bytes


@dataclass
class ScriptedSmtp:
    host: str = "127.0.0.1"
    port: int = 0
    auth_ok: bool = True
    require_auth: bool = False
    slow_seconds: float = 5.0
    delivered: list[Delivered] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    slow_started: threading.Event = field(default_factory=threading.Event)
    data_delay: float = 0.0
    peak: int = 0
    peak_by_sender: Counter[str] = field(default_factory=Counter)
    _active: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Any = None

    # --- aiosmtpd handler hooks ----------------------------------------------------------

    async def handle_RCPT(
        self,
        server: Any,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        local = address.split("@", 1)[0].lower()
        with self._lock:
            self.attempts[address.lower()] += 1
            tries = self.attempts[address.lower()]
        if local.startswith("reject"):
            return "550 5.1.1 no such user here"
        if local.startswith("temp"):
            failures = int(local[4:].split("-", 1)[0] or "1")
            if tries <= failures:
                return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        sender = str(envelope.mail_from or "").lower()
        with self._lock:
            self._active[sender] += 1
            self.peak = max(self.peak, sum(self._active.values()))
            self.peak_by_sender[sender] = max(self.peak_by_sender[sender], self._active[sender])
        try:
            if self.data_delay:
                await asyncio.sleep(self.data_delay)
            return await self._data(server, envelope)
        finally:
            with self._lock:
                self._active[sender] -= 1

    async def _data(self, server: Any, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        to = envelope.rcpt_tos[0].lower() if envelope.rcpt_tos else ""
        local = to.split("@", 1)[0]
        if local.startswith("shutdown"):
            return "421 4.3.2 service shutting down"
        message = message_from_bytes(raw, policy=policy.default)
        delivered = Delivered(
            to, str(message.get("Message-ID", "")), str(message.get("Subject", "")), raw
        )
        with self._lock:
            self.delivered.append(delivered)
        if local.startswith("drop"):
            server.transport.close()
            return "250 2.0.0 never seen by the client"
        if local.startswith("slow"):
            self.slow_started.set()
            await asyncio.sleep(self.slow_seconds)
        return "250 2.0.0 OK: queued"

    # --- lifecycle -------------------------------------------------------------------------

    def _authenticate(
        self, server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.auth_ok:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> ScriptedSmtp:
        if not self.port:
            with socket.socket() as probe:
                probe.bind((self.host, 0))
                self.port = int(probe.getsockname()[1])
        self._controller = Controller(
            self,
            hostname=self.host,
            port=self.port,
            authenticator=self._authenticate,
            auth_require_tls=False,
            auth_required=self.require_auth,
        )
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()

    def count(self, address: str) -> int:
        with self._lock:
            return sum(1 for d in self.delivered if d.to == address.lower())
