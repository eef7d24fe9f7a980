"""Invoking the real handlers as Lambda would: one event at a time per function, with a
Lambda-like context whose remaining time counts down in real (monotonic) seconds."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Function name -> (handler module, timeout seconds). Mirrors infra's function definitions.
FUNCTIONS: dict[str, tuple[str, int]] = {
    "enqueue": ("functions.enqueue.handler", 29),
    "dispatch": ("functions.dispatch.handler", 60),
    "tracking": ("functions.tracking.handler", 10),
    "token_refresh": ("functions.token_refresh.handler", 60),
    "inbox": ("functions.inbox.handler", 120),
}


@dataclass
class LocalContext:
    function_name: str
    timeout_seconds: float
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = (
            f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Functions:
    def __init__(self, timeouts: dict[str, int] | None = None) -> None:
        self._locks = {name: threading.Lock() for name in FUNCTIONS}
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}
        self._timeouts = {name: t for name, (_, t) in FUNCTIONS.items()} | (timeouts or {})

    def handler(self, name: str) -> Callable[[dict[str, Any], Any], Any]:
        if name not in self._handlers:
            module = importlib.import_module(FUNCTIONS[name][0])
            self._handlers[name] = module.handler
        return self._handlers[name]

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        handler = self.handler(name)
        with self._locks[name]:
            return handler(event, LocalContext(name, self._timeouts[name]))
