"""Outgoing webhooks: endpoints (owners manage them), emitting events, and delivering
them through the ``webhooks`` queue, at least once, signed, with backoff for a day.

Cost: one SQS message, a fifth of a Lambda invocation and one HTTPS POST per (event,
endpoint). ``sent`` and ``opened`` travel up to 100 to an event: a dispatch run's sends are
published together (:func:`publish`); opens, seen one at a time by tracking, wait as items
in ``webhook-items`` (one SQS message each) and are gathered 100 to an event
(:func:`gather`, one invocation per 100). A 100k campaign is then ~1,000 sent events and
at most ~1,000 opened events per endpoint (about 2,000 POSTs and 1,400 invocations), not
100k. Retries are new messages delayed by the backoff (over SQS's 15-minute delay limit a
message hops, re-queued until it is due). Nothing is queued for a tenant with no endpoint
listening to the type."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import SplitResult, urlsplit

from sendrail.clock import to_rfc3339
from sendrail.domain import webhooks as rules
from sendrail.domain.webhooks import Delivery, Webhook
from sendrail.errors import NotFound, ValidationFailed
from sendrail.ids import new_id, new_secret
from sendrail.observability import count, logger
from sendrail.providers import egress
from sendrail.services.deps import Deps
from sendrail.storage.queues import MAX_DELAY, Outgoing

QUEUE = "webhooks"
ITEMS = "webhook-items"  # single high-volume items, gathered into events by `gather`
POST_TIMEOUT = 5.0  # seconds; the worker takes five deliveries per invocation (29 s)
MAX_PER_TENANT = 20
SECRET_PREFIX = "whsec_"
Poster = Callable[[SplitResult, bytes, dict[str, str], egress.EgressPolicy], int]


def _owner(hook_id: str) -> str:
    return f"webhook:{hook_id}"


def check_url(url: str, *, allow_private_hosts: bool) -> str:
    """The URL if it may be called: https (http only where private hosts are allowed,
    i.e. the local stack), a host the egress guard accepts, no credentials in it."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = urlsplit("")
    problem = None
    allowed = ("https", "http") if allow_private_hosts else ("https",)
    if parts.scheme not in allowed:
        problem = "the URL must use https"
    elif not parts.hostname or parts.username or parts.password:
        problem = "the URL needs a host and no credentials"
    else:
        try:
            egress.check(parts.hostname, egress.EgressPolicy(allow_private=allow_private_hosts))
            _ = parts.port  # a malformed port raises ValueError
        except egress.EgressRefused as exc:
            problem = str(exc)
        except ValueError:
            problem = "the URL's port is not valid"
    if problem:
        raise ValidationFailed(problem, details=[{"field": "url", "reason": problem}])
    return parts.geturl()


def _check_events(events: Sequence[str]) -> list[str]:
    unknown = sorted(set(events) - set(rules.EVENT_TYPES))
    if unknown or not events:
        reason = f"unknown events: {', '.join(unknown)}" if unknown else "name at least one event"
        raise ValidationFailed(reason, details=[{"field": "events", "reason": reason}])
    return sorted(set(events))


def create(
    deps: Deps,
    tenant_id: str,
    url: str,
    events: Sequence[str],
    description: str | None,
    *,
    allow_private_hosts: bool,
) -> tuple[Webhook, str]:
    """A new endpoint and its signing secret (returned once; stored sealed)."""
    if len(deps.webhooks.list(tenant_id)) >= MAX_PER_TENANT:
        raise ValidationFailed(f"a tenant may have at most {MAX_PER_TENANT} webhooks")
    now = deps.clock.now()
    hook_id = new_id("whk", now)
    secret = f"{SECRET_PREFIX}{new_secret(32)}"
    hook = Webhook(
        id=hook_id,
        tenant_id=tenant_id,
        url=check_url(url, allow_private_hosts=allow_private_hosts),
        events=_check_events(events),
        description=description,
        secret=deps.secrets.seal(secret.encode(), _owner(hook_id)),
        created_at=now,
    )
    deps.webhooks.put(hook)
    return hook, secret


def get(deps: Deps, tenant_id: str, webhook_id: str) -> Webhook:
    hook = deps.webhooks.get(tenant_id, webhook_id)
    if hook is None:
        raise NotFound("no such webhook")
    return hook


def update(
    deps: Deps,
    tenant_id: str,
    webhook_id: str,
    changes: Mapping[str, Any],
    *,
    allow_private_hosts: bool,
) -> Webhook:
    hook = get(deps, tenant_id, webhook_id)
    update: dict[str, Any] = {}
    if changes.get("url") is not None:
        update["url"] = check_url(str(changes["url"]), allow_private_hosts=allow_private_hosts)
    if changes.get("events") is not None:
        update["events"] = _check_events(changes["events"])
    if "description" in changes:
        update["description"] = changes["description"]
    if changes.get("active") is not None:
        update["active"] = bool(changes["active"])
    updated = hook.model_copy(update=update)
    deps.webhooks.put(updated)
    return updated


def delete(deps: Deps, tenant_id: str, webhook_id: str) -> None:
    get(deps, tenant_id, webhook_id)
    deps.webhooks.delete(tenant_id, webhook_id)


def deliveries(deps: Deps, tenant_id: str, webhook_id: str, limit: int = 50) -> list[Delivery]:
    get(deps, tenant_id, webhook_id)
    return deps.webhooks.deliveries(webhook_id, limit)


# --- emitting -------------------------------------------------------------------------------


def _event(deps: Deps, type_: str, data: Mapping[str, Any]) -> dict[str, Any]:
    now = deps.clock.now()
    return {
        "id": new_id("evt", now),
        "type": type_,
        "created_at": to_rfc3339(now),
        "data": dict(data),
    }


def _enqueue(deps: Deps, hooks: Sequence[Webhook], events: Sequence[dict[str, Any]]) -> None:
    now = int(deps.clock.now().timestamp())
    messages = [
        Outgoing(
            id=str(i),
            body={
                "webhook_id": hook.id,
                "tenant_id": hook.tenant_id,
                "event": event,
                "attempt": 1,
                "first_at": now,
                "not_before": now,
            },
        )
        for i, (hook, event) in enumerate((h, e) for e in events for h in hooks)
    ]
    failed = deps.queues.send(QUEUE, messages)
    if failed:
        logger.warning("webhook events not queued", extra={"count": len(failed)})


def _subscribers(deps: Deps, tenant_id: str, type_: str) -> list[Webhook]:
    return [h for h in deps.webhooks.list(tenant_id) if h.active and type_ in h.events]


def emit(deps: Deps, tenant_id: str, type_: rules.EventType, data: Mapping[str, Any]) -> None:
    """Queue one event for every endpoint of the tenant that listens to it."""
    publish(deps, [(tenant_id, type_, data)])


def emit_many(
    deps: Deps, tenant_id: str, type_: rules.EventType, items: Sequence[Mapping[str, Any]]
) -> None:
    """Several occurrences at once (``sent``, ``opened``: up to 100 items per event)."""
    publish(deps, [(tenant_id, type_, item) for item in items])


def publish(deps: Deps, events: Sequence[tuple[str, str, Mapping[str, Any]]]) -> None:
    """Emit what one run collected: batched types 100 to an event, the rest one each.
    Types no endpoint can listen to are ignored."""
    grouped: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for tenant_id, type_, data in events:
        if type_ in rules.EVENT_TYPES:
            grouped.setdefault((tenant_id, type_), []).append(data)
    for (tenant_id, type_), items in grouped.items():
        hooks = _subscribers(deps, tenant_id, type_)
        if not hooks:
            continue
        if type_ in rules.BATCHED:
            batches = [items[at : at + rules.BATCH] for at in range(0, len(items), rules.BATCH)]
            made = [_event(deps, type_, {"items": [dict(i) for i in b]}) for b in batches]
        else:
            made = [_event(deps, type_, data) for data in items]
        _enqueue(deps, hooks, made)


def collect(deps: Deps, tenant_id: str, type_: rules.EventType, item: Mapping[str, Any]) -> None:
    """One occurrence of a high-volume event (an open) from a path that sees one at a time:
    queued as an item; :func:`gather` makes events of up to 100 of them. Nothing is
    queued when no endpoint of the tenant listens."""
    if _subscribers(deps, tenant_id, type_):
        body = {"tenant_id": tenant_id, "type": type_, "item": dict(item)}
        if deps.queues.send(ITEMS, [Outgoing(id="0", body=body)]):
            logger.warning("a webhook item was not queued", extra={"type": type_})


def gather(deps: Deps, bodies: Sequence[Mapping[str, Any]]) -> None:
    """Items from the ``webhook-items`` queue (up to 100 a batch) become events."""
    publish(
        deps,
        [(str(b["tenant_id"]), str(b["type"]), dict(b["item"])) for b in bodies if "item" in b],
    )


def send_test(deps: Deps, tenant_id: str, webhook_id: str) -> dict[str, Any]:
    hook = get(deps, tenant_id, webhook_id)
    event = _event(deps, rules.TEST, {"webhook_id": hook.id, "message": "a test from sendrail"})
    _enqueue(deps, [hook], [event])
    return event


# --- delivering -----------------------------------------------------------------------------


def _post(
    url: SplitResult, body: bytes, headers: dict[str, str], policy: egress.EgressPolicy
) -> int:
    return egress.http_post(url, body, headers, policy, timeout=POST_TIMEOUT)


def deliver(
    deps: Deps,
    message: Mapping[str, Any],
    *,
    allow_private_hosts: bool,
    post: Poster = _post,
) -> Delivery | None:
    """Handle one queued delivery: POST it if due, record the attempt, and re-queue it
    with backoff when it failed (until a day has passed). None when nothing was tried
    (not yet due, or the endpoint is gone)."""
    now = deps.clock.now()
    due = int(message.get("not_before", 0))
    if due > now.timestamp() + 1:
        _requeue(deps, dict(message), due - int(now.timestamp()))
        return None
    hook = deps.webhooks.get(str(message["tenant_id"]), str(message["webhook_id"]))
    event = dict(message["event"])
    if hook is None or (not hook.active and event.get("type") != rules.TEST):
        return None
    secret = deps.secrets.open(hook.secret, _owner(hook.id)).decode()
    body = json.dumps(event, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "sendrail-webhooks/1",
        rules.HEADER: rules.signature(secret, int(now.timestamp()), body),
    }
    attempt = int(message.get("attempt", 1))
    status: int | None = None
    error: str | None = None
    started = time.monotonic()
    try:
        policy = egress.EgressPolicy(allow_private=allow_private_hosts)
        status = post(urlsplit(hook.url), body, headers, policy)
    except egress.EgressRefused as exc:
        error = str(exc)
    except OSError as exc:
        error = f"no answer: {type(exc).__name__}"
    duration_ms = int((time.monotonic() - started) * 1000)
    first_at = datetime.fromtimestamp(int(message.get("first_at", now.timestamp())), UTC)
    retry = None if rules.delivered(status) else rules.retry_at(first_at, now, attempt)
    outcome = "delivered" if rules.delivered(status) else ("retrying" if retry else "failed")
    delivery = Delivery(
        webhook_id=hook.id,
        event_id=str(event.get("id", "")),
        type=str(event.get("type", "")),
        attempt=attempt,
        at=now,
        status_code=status,
        duration_ms=duration_ms,
        outcome=outcome,
        next_retry_at=retry,
        error=error if error else (None if status is None or status < 300 else f"HTTP {status}"),
    )
    deps.webhooks.record(delivery)
    count(
        {"delivered": "WebhookDelivered", "retrying": "WebhookRetried"}.get(
            outcome, "WebhookFailed"
        )
    )
    if retry is not None:
        wait = int((retry - now) / timedelta(seconds=1))
        again = {**message, "attempt": attempt + 1, "not_before": int(retry.timestamp())}
        _requeue(deps, again, wait)
    elif outcome == "failed":
        logger.warning("webhook delivery failed for good", extra={"webhook_id": hook.id})
    return delivery


def _requeue(deps: Deps, message: dict[str, Any], wait: int) -> None:
    """Queue ``message`` again after ``wait`` seconds (SQS delays at most 15 minutes; a
    longer wait hops). Raises when SQS refused it, so the received copy is retried."""
    outgoing = Outgoing(id="0", body=message, delay=max(0, min(MAX_DELAY, wait)))
    if deps.queues.send(QUEUE, [outgoing]):
        raise OSError("the webhook delivery could not be re-queued")
