"""Reading an Outlook / Microsoft 365 mailbox's inbox with Microsoft Graph (``Mail.Read``):
a delta query on the inbox folder (``/me/mailFolders/inbox/messages/delta``), each new
message's MIME read from ``/me/messages/{id}/$value``. Reading through Graph marks
nothing read.

The checkpoint is the link to continue from: the page being read and how many of its
messages were read (a run cut short resumes there) and, once the last page is read, its
``@odata.deltaLink``. The first query, or one whose delta state Graph has dropped
(410), filters on ``receivedDateTime ge`` the mailbox's creation or the last message
read, less a day."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sendrail.clock import parse_rfc3339, to_rfc3339
from sendrail.errors import MailboxSendError
from sendrail.providers.inbox_base import Checkpoint, InboxMessage, InboxUnavailable
from sendrail.providers.outlook import OutlookSender

PAGE = 50
_SLACK = timedelta(days=1)
_GONE = (404, 410)


class OutlookInbox(OutlookSender):
    """Reuses the sender's HTTP session and its one-refresh-on-401 request."""

    def read(
        self,
        checkpoint: Checkpoint | None,
        since: datetime,
        limit: int,
        should_stop: Callable[[], bool],
    ) -> Iterator[InboxMessage]:
        import requests  # noqa: PLC0415

        try:
            yield from self._read(checkpoint, since, limit, should_stop)
        except (requests.RequestException, MailboxSendError) as exc:
            raise InboxUnavailable(f"Graph unavailable: {exc}"[:300]) from exc

    def _first(self, since: datetime) -> str:
        query = {
            "$select": "id,receivedDateTime",
            "$filter": f"receivedDateTime ge {to_rfc3339(since)}",
        }
        return f"{self._root}/me/mailFolders/inbox/messages/delta?{urlencode(query)}"

    def _get(self, link: str) -> Any:
        path = link[len(self._root) :] if link.startswith(self._root) else link
        return self._request("GET", path, headers={"Prefer": f"odata.maxpagesize={PAGE}"})

    def _read(
        self,
        checkpoint: Checkpoint | None,
        since: datetime,
        limit: int,
        should_stop: Callable[[], bool],
    ) -> Iterator[InboxMessage]:
        link = str(checkpoint["link"]) if checkpoint and checkpoint.get("link") else None
        skip = int(checkpoint.get("skip", 0)) if checkpoint and link else 0
        if link is None:
            link = self._first(since)
        count = 0
        while count < limit and not should_stop():
            response = self._get(link)
            if response.status_code in _GONE and checkpoint is not None:
                # The delta state is gone: query by date, once.
                at = checkpoint.get("at")
                link = self._first(parse_rfc3339(str(at)) - _SLACK if at else since)
                checkpoint, skip = None, 0
                continue
            if response.status_code != 200:
                raise InboxUnavailable(f"Graph {response.status_code} on the inbox delta")
            body = response.json()
            following = body.get("@odata.nextLink") or body.get("@odata.deltaLink")
            items = [v for v in body.get("value", []) if "@removed" not in v]
            for n, item in enumerate(items):
                if n < skip:  # read by the run that stopped on this page
                    continue
                if count >= limit or should_stop():
                    return
                raw = self._request("GET", f"/me/messages/{item['id']}/$value")
                count += 1
                if raw.status_code == 404:  # deleted meanwhile
                    continue
                if raw.status_code != 200:
                    raise InboxUnavailable(f"Graph {raw.status_code} reading a message")
                received = parse_rfc3339(str(item["receivedDateTime"]))
                at = to_rfc3339(received)
                if n == len(items) - 1 and following:
                    position: Checkpoint = {"link": following, "at": at}
                else:
                    position = {"link": link, "skip": n + 1, "at": at}
                yield InboxMessage(raw.content, received, position)
            if "@odata.deltaLink" in body or not following:
                return
            link, skip = following, 0
