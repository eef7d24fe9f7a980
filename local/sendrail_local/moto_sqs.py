"""moto's SQS queue attributes, computed only when read.

moto builds ``Queue.attributes`` as a whole dict on every access, and three of its
values (the approximate counts of visible, delayed and in-flight messages) walk every
message in the queue, two clock reads each. moto reads that dict for single values on
every message sent (``ContentBasedDeduplication``) and every message received (the
retention period), so a queue of N messages costs O(N) per message and O(N^2) to drain:
a receive of ten from 500 messages took about 100 ms of CPU in the calling thread. Real
SQS costs its caller no CPU at all; in the local stack, the tests and the benchmarks
that CPU ran beside dispatch's lanes and the SMTP sink and competed with them for the
interpreter.

:func:`install` replaces the property with a read-only mapping that has the same keys,
in the same order, and gives the same value for each, computed when that key is read.
GetQueueAttributes (``All`` or named) answers exactly what it did."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from moto.core.utils import camelcase_to_underscores
from moto.sqs.models import Queue

# moto's own, kept for the tests to compare with
MOTO_ATTRIBUTES: Callable[[Queue], dict[str, Any]] = vars(Queue)["attributes"].fget


class QueueAttributes(Mapping[str, Any]):
    """``Queue.attributes`` as moto defines it, each value computed on reading."""

    def __init__(self, queue: Queue) -> None:
        self._queue = queue
        names = list(queue.BASE_ATTRIBUTES)
        if queue.fifo_queue:
            names += queue.FIFO_ATTRIBUTES
        if queue.kms_master_key_id:  # type: ignore[attr-defined]
            names += queue.KMS_ATTRIBUTES
        self._names = dict.fromkeys(names)  # ordered, and "Policy" once (it is a base one)

    def __getitem__(self, name: str) -> Any:
        if name not in self._names:
            raise KeyError(name)
        queue = self._queue
        if name == "RedrivePolicy" and queue.redrive_policy:
            return json.dumps(queue.redrive_policy)
        value = getattr(queue, camelcase_to_underscores(name))
        return str(value).lower() if isinstance(value, bool) else value

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def install() -> None:
    """moto's own behaviour is unchanged but for the CPU it takes (installing twice is
    installing once)."""
    Queue.attributes = property(QueueAttributes)  # type: ignore[assignment,method-assign]
