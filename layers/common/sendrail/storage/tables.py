"""The DynamoDB tables, defined once as pynamodb models.

This module is the single source of truth for table keys, indexes and TTL attributes:
``infra`` builds the CDK tables from :func:`table_specs`, the local stack creates the moto
tables from the same specs, and the data-access code uses the models. Table names are
bound at cold start by :func:`bind` (never at import time).

Tables:
- ``main``: tenants, keys, users, settings, mailboxes, campaigns, throttles (single-table).
- ``recipients``: one item per (campaign or message, recipient address); hot path.
- ``suppressions``: per tenant, addresses that must never receive mail.
- ``limits``: one versioned item per limit subject (see ``sendrail.domain.limits``), and
  one counter per API caller and second (``api#…``, see ``sendrail.storage.api_rate``).
- ``stats``: aggregated counters per bucket (timelines, per-mailbox days).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    NumberSetAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from sendrail.storage import clients


class _Meta:
    table_name = "unbound"
    region = "us-east-1"


# --- main ----------------------------------------------------------------------------------


class Gsi1(GlobalSecondaryIndex["MainItem"]):
    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class MainItem(Model):
    """Every entity of the ``main`` table; ``kind`` says which, ``doc`` holds its fields
    that no condition or index needs."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi1 = Gsi1()
    status = UnicodeAttribute(null=True)
    tenant_id = UnicodeAttribute(null=True)
    doc = JSONAttribute(null=True)
    version = NumberAttribute(null=True)  # optimistic concurrency, see codec.save_versioned
    expires_at = TTLAttribute(null=True)
    # campaign counters, updated with ADD
    n_total = NumberAttribute(null=True)
    n_queued = NumberAttribute(null=True)
    n_deferred = NumberAttribute(null=True)
    n_sending = NumberAttribute(null=True)
    n_sent = NumberAttribute(null=True)
    n_failed = NumberAttribute(null=True)
    n_cancelled = NumberAttribute(null=True)
    n_suppressed = NumberAttribute(null=True)
    n_bounced = NumberAttribute(null=True)
    imports_pending = NumberAttribute(null=True)
    feed_cursor = UnicodeAttribute(null=True)
    feed_done = BooleanAttribute(null=True)
    fed_at = NumberAttribute(null=True)
    # mailbox token bookkeeping and error streaks
    token_version = NumberAttribute(null=True)
    consecutive_errors = NumberAttribute(null=True)
    # login throttle
    failures = NumberAttribute(null=True)
    # recipient imports
    done_chunks = NumberSetAttribute(null=True)
    n_added = NumberAttribute(null=True)
    n_duplicates = NumberAttribute(null=True)
    # replies read from the inboxes (listed per mailbox)
    mailbox_id = UnicodeAttribute(null=True)


# --- recipients ----------------------------------------------------------------------------


class ByEmail(GlobalSecondaryIndex["RecipientItem"]):
    """A tenant's recipients by address, across campaigns (unsubscribe, bounces)."""

    class Meta:
        index_name = "by_email"
        projection = KeysOnlyProjection()

    tenant_email = UnicodeAttribute(hash_key=True)
    campaign_id = UnicodeAttribute(range_key=True)


class RecipientItem(Model):
    class Meta(_Meta):
        pass

    campaign_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    tenant_email = UnicodeAttribute()
    by_email = ByEmail()
    status = UnicodeAttribute()
    data = JSONAttribute(null=True)
    attempts = NumberAttribute(default=0)
    mailbox_id = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    opened_at = UTCDateTimeAttribute(null=True)
    clicked_at = UTCDateTimeAttribute(null=True)
    replied_at = UTCDateTimeAttribute(null=True)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    cleared_at = UTCDateTimeAttribute(null=True)  # hidden from queue views by /queue/clear
    import_marker = UnicodeAttribute(null=True)
    clicked_links = UnicodeSetAttribute(null=True)  # hashes of the links clicked
    lease_until = NumberAttribute(null=True)  # a claim's (``sending``): when it expires
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


# --- suppressions, limits, stats -----------------------------------------------------------


class SuppressionItem(Model):
    class Meta(_Meta):
        pass

    tenant_id = UnicodeAttribute(hash_key=True)
    email = UnicodeAttribute(range_key=True)
    reason = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


class LimitItem(Model):
    class Meta(_Meta):
        pass

    subject = UnicodeAttribute(hash_key=True)
    buckets = JSONAttribute(null=True)
    log = ListAttribute[float](null=True)
    version = NumberAttribute(null=True)
    expires_at = TTLAttribute(null=True)
    hits = NumberAttribute(null=True)  # API rate windows (``api#…`` subjects), see api_rate


class StatItem(Model):
    class Meta(_Meta):
        pass

    key = UnicodeAttribute(hash_key=True)
    bucket = UnicodeAttribute(range_key=True)
    expires_at = TTLAttribute(null=True)


# --- binding and specs ---------------------------------------------------------------------

MODELS: dict[str, type[Model]] = {
    "main": MainItem,
    "recipients": RecipientItem,
    "suppressions": SuppressionItem,
    "limits": LimitItem,
    "stats": StatItem,
}

TTL_ATTRIBUTES: dict[str, str | None] = {
    "main": "expires_at",
    "recipients": None,
    "suppressions": None,
    "limits": "expires_at",
    "stats": "expires_at",
}


@dataclass(frozen=True)
class TableNames:
    main: str
    recipients: str
    suppressions: str
    limits: str
    stats: str

    @classmethod
    def with_prefix(cls, prefix: str) -> TableNames:
        return cls(**{logical: f"{prefix}{logical}" for logical in MODELS})


# HTTP connections each model's client keeps: dispatch claims from up to this many lanes
# at once (botocore's default of 10 would make the others open and drop connections).
POOL_CONNECTIONS = 64


# Raw calls on the hot paths (claims, batch writes of recipients) go through one client per
# region and endpoint, shared by all threads (botocore clients are thread-safe), made as
# pynamodb makes its own (its pool, timeouts and retries) with our clients' configuration
# (``sendrail.storage.clients``: a fixed User-Agent, no client-side validation).
_CLIENTS: dict[tuple[str | None, str | None], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def client(model: type[Model]) -> Any:
    """The botocore DynamoDB client for raw calls on ``model``'s table."""
    key = (model.Meta.region, model.Meta.host)
    found = _CLIENTS.get(key)
    if found is None:
        with _CLIENTS_LOCK:  # one client per key, whichever thread asks first
            found = _CLIENTS.get(key)
            if found is None:
                found = _CLIENTS[key] = clients.client(
                    "dynamodb",
                    key[0],
                    endpoint_url=key[1],
                    connect_timeout=15,
                    read_timeout=30,
                    max_pool_connections=POOL_CONNECTIONS,
                    retries={"mode": "standard", "total_max_attempts": 4},
                )
    return found


def bind(names: TableNames, region: str, host: str | None = None) -> None:
    """Point every model at its table. Called once per cold start (and by tests).

    pynamodb keeps one botocore client per model, shared by all threads (botocore clients
    are thread-safe), and a botocore session per thread (creating clients is not)."""
    for logical, model in MODELS.items():
        model.Meta.table_name = getattr(names, logical)
        model.Meta.region = region
        model.Meta.host = host
        model.Meta.max_pool_connections = POOL_CONNECTIONS
        model._connection = None
    with _CLIENTS_LOCK:
        _CLIENTS.clear()


@dataclass(frozen=True)
class IndexSpec:
    name: str
    hash_key: str
    range_key: str | None
    projection: str  # "ALL" | "KEYS_ONLY"


@dataclass(frozen=True)
class TableSpec:
    logical: str
    hash_key: str
    range_key: str | None
    attribute_types: dict[str, str]  # key attributes only: name -> "S" | "N" | "B"
    indexes: tuple[IndexSpec, ...]
    ttl_attribute: str | None


def table_specs() -> list[TableSpec]:
    specs = []
    for logical, model in MODELS.items():
        schema: Any = model._get_schema()
        types = {d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]}
        keys = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
        indexes = []
        for gsi in schema.get("global_secondary_indexes", []):
            gkeys = {k["KeyType"]: k["AttributeName"] for k in gsi["key_schema"]}
            indexes.append(
                IndexSpec(
                    name=gsi["index_name"],
                    hash_key=gkeys["HASH"],
                    range_key=gkeys.get("RANGE"),
                    projection=gsi["projection"]["ProjectionType"],
                )
            )
        specs.append(
            TableSpec(
                logical=logical,
                hash_key=keys["HASH"],
                range_key=keys.get("RANGE"),
                attribute_types=types,
                indexes=tuple(indexes),
                ttl_attribute=TTL_ATTRIBUTES[logical],
            )
        )
    return specs
