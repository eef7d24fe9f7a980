"""What the inbox watcher keeps in the ``main`` table: each mailbox's checkpoint, a marker
per inbox message already applied (so a message read again after a reset counts once),
and the replies listed by ``GET /api/replies``.

Keys:
- ``INBOX#<mailbox>`` / ``CHECKPOINT``: the reader's position (its own JSON shape).
- ``INBOX#<mailbox>`` / ``SEEN#<message key>``: applied; expires after :data:`SEEN_FOR`.
- ``REPLIES#<tenant>`` / ``<received_at>#<mailbox>#<message key>``: a reply, newest last;
  ``gsi1`` holds the same per campaign (``REPLIES#<tenant>#<campaign>``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from sendrail.clock import to_rfc3339
from sendrail.domain.models import Reply
from sendrail.storage.codec import dump, get_or_none, is_conditional_failure
from sendrail.storage.tables import MainItem

SEEN_FOR = timedelta(days=90)
_CHECKPOINT = "CHECKPOINT"


def _pk(mailbox_id: str) -> str:
    return f"INBOX#{mailbox_id}"


def _replies(tenant_id: str, campaign_id: str | None = None) -> str:
    return f"REPLIES#{tenant_id}" + (f"#{campaign_id}" if campaign_id else "")


class InboxRepo:
    def checkpoint(self, mailbox_id: str) -> dict[str, Any] | None:
        item = get_or_none(MainItem, _pk(mailbox_id), _CHECKPOINT)
        return dict(item.doc or {}) if item else None

    def save_checkpoint(self, mailbox_id: str, checkpoint: dict[str, Any]) -> None:
        MainItem(_pk(mailbox_id), _CHECKPOINT, kind="inbox_checkpoint", doc=checkpoint).save()

    def claim(self, mailbox_id: str, message_key: str, now: datetime) -> bool:
        """True the first time ``message_key`` is claimed for this mailbox."""
        item = MainItem(
            _pk(mailbox_id), f"SEEN#{message_key}", kind="inbox_seen", expires_at=now + SEEN_FOR
        )
        try:
            item.save(condition=MainItem.pk.does_not_exist())
        except PutError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def add_reply(self, reply: Reply, message_key: str) -> None:
        sk = f"{to_rfc3339(reply.received_at)}#{reply.mailbox_id}#{message_key}"
        MainItem(
            _replies(reply.tenant_id),
            sk,
            kind="reply",
            tenant_id=reply.tenant_id,
            mailbox_id=reply.mailbox_id,
            gsi1pk=_replies(reply.tenant_id, reply.campaign_id),
            gsi1sk=sk,
            doc=dump(reply),
        ).save()

    def page(
        self,
        tenant_id: str,
        limit: int,
        after: dict[str, Any] | None,
        *,
        campaign_id: str | None = None,
        mailbox_id: str | None = None,
    ) -> tuple[list[Reply], dict[str, Any] | None]:
        """Newest first; with ``mailbox_id`` a page may hold fewer than ``limit`` items."""
        condition = MainItem.mailbox_id == mailbox_id if mailbox_id else None
        if campaign_id:
            result: Any = MainItem.gsi1.query(
                _replies(tenant_id, campaign_id),
                filter_condition=condition,
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=after,
            )
        else:
            result = MainItem.query(
                _replies(tenant_id),
                filter_condition=condition,
                scan_index_forward=False,
                limit=limit,
                last_evaluated_key=after,
            )
        items = [Reply.model_validate(i.doc) for i in result]
        return items, result.last_evaluated_key
