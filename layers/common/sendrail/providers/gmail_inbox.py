"""Reading a Gmail mailbox's inbox with the Gmail API (``gmail.readonly``, already part of
the consent): ``users.history.list`` from the checkpoint's history id, each new message
fetched with ``users.messages.get(format=raw)``. Nothing is modified (the readonly scope
could not even if asked).

Without a checkpoint, or when Gmail no longer has the history (404 after about a week),
the reader lists ``in:inbox after:<time>`` with ``users.messages.list``, oldest first,
having noted the mailbox's history id first; the checkpoint then records both, so a scan
cut short resumes where it stopped and a finished one continues with the history."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sendrail.clock import parse_rfc3339, to_rfc3339
from sendrail.errors import MailboxSendError
from sendrail.providers.gmail import GmailSender
from sendrail.providers.inbox_base import Checkpoint, InboxMessage, InboxUnavailable

PAGE = 100
_SLACK = timedelta(days=1)


class GmailInbox(GmailSender):
    """Reuses the sender's client and its one-refresh-on-401 call."""

    def read(
        self,
        checkpoint: Checkpoint | None,
        since: datetime,
        limit: int,
        should_stop: Callable[[], bool],
    ) -> Iterator[InboxMessage]:
        from googleapiclient.errors import HttpError  # noqa: PLC0415

        try:
            yield from self._read(checkpoint, since, limit, should_stop)
        except HttpError as exc:
            raise InboxUnavailable(f"Gmail {exc.resp.status}") from exc
        except (OSError, MailboxSendError) as exc:
            raise InboxUnavailable(f"Gmail unavailable: {exc}"[:300]) from exc

    def _read(
        self,
        checkpoint: Checkpoint | None,
        since: datetime,
        limit: int,
        should_stop: Callable[[], bool],
    ) -> Iterator[InboxMessage]:
        from googleapiclient.errors import HttpError  # noqa: PLC0415

        checkpoint = checkpoint or {}
        if checkpoint.get("history_id") and "scan_after" not in checkpoint:
            try:
                yield from self._history(checkpoint, limit, should_stop)
                return
            except HttpError as exc:
                if exc.resp.status != 404:  # 404: the history is gone; scan instead
                    raise
            since = parse_rfc3339(str(checkpoint["at"])) - _SLACK
        seen: list[str] = []
        if "scan_after" in checkpoint:  # a scan cut short: on from its last second
            since = datetime.fromtimestamp(int(checkpoint["scan_after"]), UTC)
            seen = [str(i) for i in checkpoint.get("seen", [])]
        history_id = checkpoint.get("history_id") if "scan_after" in checkpoint else None
        yield from self._scan(since, seen, history_id, limit, should_stop)

    def _history(
        self, checkpoint: Checkpoint, limit: int, should_stop: Callable[[], bool]
    ) -> Iterator[InboxMessage]:
        added: list[tuple[str, str]] = []  # (message id, history id after it)
        position, token = str(checkpoint["history_id"]), None
        while len(added) < limit:
            page = self._call(
                lambda gmail, t=token: (
                    gmail.users()
                    .history()
                    .list(
                        userId="me",
                        startHistoryId=str(checkpoint["history_id"]),
                        historyTypes=["messageAdded"],
                        labelId="INBOX",
                        maxResults=PAGE,
                        pageToken=t,
                    )
                )
            )
            for record in page.get("history", []):
                ids = [a["message"]["id"] for a in record.get("messagesAdded", [])]
                for n, message_id in enumerate(ids):
                    # Mid-record, the position stays before the record: nothing skipped.
                    added.append((message_id, str(record["id"]) if n == len(ids) - 1 else position))
                position = str(record["id"])
            token = page.get("nextPageToken")
            if not token:
                break
        for message_id, after in added[:limit]:
            if should_stop():
                return
            found = self._get(message_id)
            if found is not None:
                raw, received = found
                yield InboxMessage(raw, received, {"history_id": after, "at": to_rfc3339(received)})

    def _scan(
        self,
        since: datetime,
        seen: list[str],
        history_id: Any,
        limit: int,
        should_stop: Callable[[], bool],
    ) -> Iterator[InboxMessage]:
        if history_id is None:
            history_id = self._call(lambda gmail: gmail.users().getProfile(userId="me"))[
                "historyId"
            ]
        ids: list[str] = []
        token = None
        query = f"in:inbox after:{int(since.timestamp()) - 1}"  # "after" is strict
        while True:
            page = self._call(
                lambda gmail, t=token: (
                    gmail.users()
                    .messages()
                    .list(userId="me", q=query, maxResults=PAGE, pageToken=t)
                )
            )
            ids += [m["id"] for m in page.get("messages", [])]
            token = page.get("nextPageToken")
            if not token:
                break
        oldest_first = [i for i in reversed(ids) if i not in set(seen)]
        wanted = oldest_first[:limit]
        finished = len(oldest_first) <= limit
        # Gmail's ``after:`` counts in seconds: the ids read in the last second read are
        # kept, so a scan resumed in that second neither skips nor repeats.
        second = int(since.timestamp())
        for n, message_id in enumerate(wanted):
            if should_stop():
                return
            found = self._get(message_id)
            if found is None:
                continue
            raw, received = found
            if int(received.timestamp()) != second:
                second, seen = int(received.timestamp()), []
            seen = [*seen, message_id]
            last = finished and n == len(wanted) - 1
            position: Checkpoint = {"history_id": str(history_id), "at": to_rfc3339(received)}
            if not last:
                position.update(scan_after=second, seen=seen)
            yield InboxMessage(raw, received, position)

    def _get(self, message_id: str) -> tuple[bytes, datetime] | None:
        from googleapiclient.errors import HttpError  # noqa: PLC0415

        try:
            message = self._call(
                lambda gmail: gmail.users().messages().get(userId="me", id=message_id, format="raw")
            )
        except HttpError as exc:
            if exc.resp.status == 404:  # deleted meanwhile
                return None
            raise
        raw = base64.urlsafe_b64decode(str(message["raw"]) + "==")
        received = datetime.fromtimestamp(int(message.get("internalDate", 0)) / 1000, UTC)
        return raw, received
