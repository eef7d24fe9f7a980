"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

from __future__ import annotations

import time
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from sendrail_local.outbox import Outbox


class _Handler:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        self._outbox.record_raw(
            raw,
            envelope_to=[str(r) for r in envelope.rcpt_tos],
            envelope_from=str(envelope.mail_from or ""),
            via="smtp",
        )
        return "250 2.0.0 OK: queued"


class SmtpSink:
    def __init__(self, outbox: Outbox, host: str, port: int) -> None:
        self._controller = Controller(_Handler(outbox), hostname=host, port=port)
        self.host = host
        self.port = port

    def start(self) -> None:
        self._controller.start()
        self.port = self._controller.port

    def stop(self) -> None:
        self._controller.stop()

    def cpu_seconds(self) -> float:
        """CPU time of the thread that serves SMTP, so far (benchmarks that run the sink in
        their own process tell its share apart); 0 when it is not running."""
        thread = self._controller._thread  # aiosmtpd's server thread (no public name)
        if thread is None or thread.ident is None:
            return 0.0
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
