"""Invoking the real handlers as Lambda would: each event in a container of its own (here: a
thread of its own; up to ``CONCURRENCY`` at once per function, so one slow request never
holds up the rest), with a Lambda-like context whose remaining time counts down in real
(monotonic) seconds.

A Lambda container handles one event at a time, and Powertools relies on it: the resolver
keeps the current event, the Lambda context and the per-request ``context`` dict in
process-wide (class) attributes. Threads sharing one process would read each other's
requests (another caller's ``Authorization`` header), so :func:`one_event_per_thread`
makes those attributes per thread before any handler runs."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sendrail.functions_spec import FUNCTIONS

# Reserved concurrency of each function in the local stack: requests beyond it wait.
CONCURRENCY = 16


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
    """The functions of ``sendrail.functions_spec``, each with its timeout and memory."""

    def __init__(self) -> None:
        one_event_per_thread()
        self._slots = {name: threading.BoundedSemaphore(CONCURRENCY) for name in FUNCTIONS}
        self._handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {}

    def names(self) -> list[str]:
        return list(self._slots)

    def handler(self, name: str) -> Callable[[dict[str, Any], Any], Any]:
        if name not in self._handlers:
            module = importlib.import_module(FUNCTIONS[name].module)
            self._handlers[name] = module.handler
        return self._handlers[name]

    def context(self, name: str) -> LocalContext:
        spec = FUNCTIONS[name]
        return LocalContext(name, spec.timeout, memory_limit_in_mb=spec.memory)

    def invoke(self, name: str, event: dict[str, Any]) -> Any:
        handler = self.handler(name)
        with self._slots[name]:
            return handler(event, self.context(name))


# --- one event per container --------------------------------------------------------------

_per_thread = threading.local()
_installed: list[bool] = []
_install_lock = threading.Lock()


class _PerThread:
    """A resolver attribute each thread sees on its own (Lambda: each container)."""

    def __init__(self, name: str, default: Callable[[], Any] | None = None) -> None:
        self._name = name
        self._default = default

    def _store(self, instance: object) -> dict[str, Any]:
        stores: dict[int, dict[str, Any]] | None = getattr(_per_thread, "stores", None)
        if stores is None:
            stores = _per_thread.stores = {}
        return stores.setdefault(id(instance), {})

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        store = self._store(instance)
        if self._name not in store:
            if self._default is None:
                raise AttributeError(self._name)
            store[self._name] = self._default()
        return store[self._name]

    def __set__(self, instance: object, value: Any) -> None:
        self._store(instance)[self._name] = value


def one_event_per_thread() -> None:
    """Makes Powertools' per-request resolver state per thread (idempotent).

    ``resolve`` still writes the event into ``BaseRouter``'s class attribute, but every read
    goes through the resolver instance (routers read ``api_resolver.current_event``), which
    now finds the per-thread value set here first. A route's middleware stack is built on
    its first call; two first calls at once would build it twice, so building takes turns."""
    with _install_lock:
        if _installed:
            return
        from aws_lambda_powertools.event_handler import api_gateway  # noqa: PLC0415
        from aws_lambda_powertools.utilities.data_classes.common import (  # noqa: PLC0415
            BaseProxyEvent,
        )

        resolver = api_gateway.ApiGatewayResolver
        resolver.current_event = _PerThread("current_event")  # type: ignore[assignment]
        resolver.lambda_context = _PerThread("lambda_context")  # type: ignore[assignment]
        resolver.context = _PerThread("context", dict)  # type: ignore[assignment]
        resolve = resolver.resolve

        def resolve_per_thread(self: Any, event: Any, context: Any) -> dict[str, Any]:
            raw = event.raw_event if isinstance(event, BaseProxyEvent) else event
            self.current_event = self._to_proxy_event(raw)
            self.lambda_context = context
            return resolve(self, event, context)

        resolver.resolve = resolve_per_thread  # type: ignore[method-assign]

        build = api_gateway.Route._build_middleware_stack
        build_lock = threading.Lock()

        def build_once(self: Any, *args: Any, **kwargs: Any) -> None:
            with build_lock:
                if not self._middleware_stack_built:
                    build(self, *args, **kwargs)

        api_gateway.Route._build_middleware_stack = build_once  # type: ignore[method-assign]
        _installed.append(True)
