"""The reading interface the inbox watcher owns; IMAP, Gmail and Outlook implement it.

A reader yields the messages that arrived after a checkpoint, oldest first, each with
the checkpoint that follows it (so the watcher can stop after any message and resume
there: nothing is read twice or skipped). Messages are never changed in the user's
mailbox: nothing is marked read, moved or deleted."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sendrail.errors import SendrailError

Checkpoint = dict[str, Any]  # the reader's own JSON-able position
MAX_MESSAGE_BYTES = 512 * 1024  # of a larger message only the start is read


class InboxUnavailable(SendrailError):
    """The mailbox's inbox cannot be read now (unreachable, login refused, revoked grant);
    the watcher goes on with the other mailboxes and tries again on its next run."""


@dataclass(frozen=True)
class InboxMessage:
    raw: bytes
    received_at: datetime | None
    checkpoint: Checkpoint  # where to resume after this message


class InboxReader(Protocol):
    def read(
        self,
        checkpoint: Checkpoint | None,
        since: datetime,
        limit: int,
        should_stop: Callable[[], bool],
    ) -> Iterator[InboxMessage]:
        """Messages after ``checkpoint`` (without one, or when it no longer holds: those
        received since ``since``), at most ``limit``, until ``should_stop()``."""
        ...

    def close(self) -> None: ...
