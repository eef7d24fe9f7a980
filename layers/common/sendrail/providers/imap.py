"""Reading an SMTP mailbox's inbox over IMAP (imapclient).

The folder is selected read-only and bodies are fetched with ``BODY.PEEK[]``, so no flag
changes. The checkpoint is ``{uidvalidity, uid}``: the next run asks for ``UID uid+1:*``.
When the server's UIDVALIDITY changes (the folder was rebuilt, UIDs mean something else)
the reader starts again from the messages received since the checkpoint was written (a
day earlier, for clock and time-zone slack); the watcher's per-message claims make the
messages read again count once."""

from __future__ import annotations

import contextlib
import imaplib
import json
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sendrail.clock import parse_rfc3339, to_rfc3339
from sendrail.domain.models import ImapSettings, Mailbox, SmtpSecurity
from sendrail.providers import egress
from sendrail.providers.inbox_base import (
    MAX_MESSAGE_BYTES,
    Checkpoint,
    InboxMessage,
    InboxUnavailable,
)

FETCH_CHUNK = 50
_SLACK = timedelta(days=1)
_BODY = b"BODY[]"
_PARTIAL = b"BODY[]<0>"


class ImapInbox:
    def __init__(
        self,
        mailbox: Mailbox,
        secret: bytes | None,
        timeout: float = 30.0,
        *,
        allow_private_hosts: bool = False,
    ) -> None:
        if mailbox.imap is None:
            raise ValueError("the mailbox has no imap settings")
        self._settings: ImapSettings = mailbox.imap
        self._username = mailbox.imap.username or mailbox.email
        self._password = str(json.loads(secret)["password"]) if secret else ""
        self._timeout = timeout
        self._egress = egress.EgressPolicy(allow_private=allow_private_hosts)
        self._client: Any = None

    def _connect(self) -> Any:
        from imapclient import IMAPClient  # noqa: PLC0415 - only the inbox watcher needs it
        from imapclient.exceptions import LoginError  # noqa: PLC0415

        s = self._settings
        context = ssl.create_default_context()
        use_ssl = s.security is SmtpSecurity.TLS
        try:
            # The host and every address it resolves to pass the egress guard first. (Unlike
            # SMTP's, imapclient's connection is not pinned to the checked address.)
            egress.resolve(s.host, s.port, self._egress)
        except egress.EgressRefused as exc:
            raise InboxUnavailable(f"IMAP {exc}") from None
        except OSError as exc:
            raise InboxUnavailable(f"IMAP server {s.host}:{s.port} unreachable") from exc
        try:
            client = IMAPClient(
                s.host,
                s.port,
                ssl=use_ssl,
                ssl_context=context if use_ssl else None,
                timeout=self._timeout,
            )
        except (OSError, imaplib.IMAP4.error) as exc:
            raise InboxUnavailable(f"IMAP server {s.host}:{s.port} unreachable") from exc
        client.normalise_times = False
        try:
            if s.security is SmtpSecurity.STARTTLS:
                client.starttls(context)
            client.login(self._username, self._password)
        except LoginError as exc:
            with contextlib.suppress(OSError):
                client.shutdown()
            raise InboxUnavailable(f"IMAP login refused for {self._username}") from exc
        return client

    def read(
        self,
        checkpoint: Checkpoint | None,
        since: datetime,
        limit: int,
        should_stop: Callable[[], bool],
    ) -> Iterator[InboxMessage]:
        if self._client is None:
            self._client = self._connect()
        try:
            yield from self._read(self._client, checkpoint, since, limit, should_stop)
        except (OSError, imaplib.IMAP4.error) as exc:
            self._client = None
            raise InboxUnavailable(f"IMAP read failed: {type(exc).__name__}") from exc

    def _read(
        self,
        client: Any,
        checkpoint: Checkpoint | None,
        since: datetime,
        limit: int,
        should_stop: Callable[[], bool],
    ) -> Iterator[InboxMessage]:
        selected = client.select_folder(self._settings.folder, readonly=True)
        validity = int(selected[b"UIDVALIDITY"])
        if checkpoint and int(checkpoint.get("uidvalidity", -1)) == validity:
            after = int(checkpoint["uid"])
            uids = [u for u in client.search(["UID", f"{after + 1}:*"]) if u > after]
        else:
            if checkpoint and checkpoint.get("at"):
                since = parse_rfc3339(str(checkpoint["at"])) - _SLACK
            uids = client.search(["SINCE", since.astimezone(UTC).date()])
        wanted = sorted(uids)[:limit]
        for start in range(0, len(wanted), FETCH_CHUNK):
            if should_stop():
                return
            chunk = wanted[start : start + FETCH_CHUNK]
            sizes = client.fetch(chunk, ["RFC822.SIZE", "INTERNALDATE"])
            small = [u for u in chunk if int(sizes[u].get(b"RFC822.SIZE", 0)) <= MAX_MESSAGE_BYTES]
            large = [u for u in chunk if u not in set(small)]
            bodies: dict[int, bytes] = {}
            if small:
                for uid, data in client.fetch(small, ["BODY.PEEK[]"]).items():
                    bodies[uid] = bytes(data.get(_BODY, b""))
            if large:
                part = f"BODY.PEEK[]<0.{MAX_MESSAGE_BYTES}>"
                for uid, data in client.fetch(large, [part]).items():
                    bodies[uid] = bytes(data.get(_PARTIAL, data.get(_BODY, b"")))
            for uid in chunk:
                if uid not in bodies:  # expunged meanwhile
                    continue
                received = sizes[uid].get(b"INTERNALDATE")
                when = _utc(received) if isinstance(received, datetime) else None
                position = {
                    "uidvalidity": validity,
                    "uid": uid,
                    "at": to_rfc3339(when or since),
                }
                yield InboxMessage(bodies[uid], when, position)

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(OSError, imaplib.IMAP4.error):  # it may be gone
                self._client.logout()
            self._client = None


def _utc(when: datetime) -> datetime:
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
