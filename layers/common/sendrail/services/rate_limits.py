"""Per-caller API rate limits: a fixed one-second window for each API key (or each user's
session), counted in DynamoDB so every Lambda container sees the same count.

The limit is the tenant's ``api_rate_limit`` setting, else the platform default (50/s).
A platform default of 0 turns the limits off altogether, tenants' settings included (an
operator's switch; the test suites and fuzzing run so, since a virtual second never ends
by itself). The tenant's setting is read at most once per
``SETTING_SECONDS`` per container; a change made through this container applies at once.
Per request: one conditional UpdateItem (1 WCU), plus one GetItem per tenant and
container every ``SETTING_SECONDS``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sendrail.domain.models import ApiSettings
from sendrail.errors import ApiRateLimited
from sendrail.services.auth import Principal
from sendrail.services.deps import Deps

DEFAULT_PER_SECOND = 50
SETTING_SECONDS = 10.0
COUNTER_SECONDS = 60  # how long a second's counter outlives it (TTL)

_settings: dict[str, tuple[float, int | None]] = {}  # tenant -> (read at, its limit)
_settings_lock = threading.Lock()


def caller(principal: Principal) -> str:
    """Whose requests are counted together: the key, or the user behind a session."""
    if principal.key_id is not None:
        return f"key#{principal.key_id}"
    return f"user#{principal.tenant_id}#{principal.user_email}"


def tenant_limit(deps: Deps, tenant_id: str) -> int | None:
    now = deps.clock.now().timestamp()
    with _settings_lock:
        cached = _settings.get(tenant_id)
    if cached is not None and 0 <= now - cached[0] < SETTING_SECONDS:
        return cached[1]
    limit = deps.settings.api(tenant_id).api_rate_limit
    with _settings_lock:
        _settings[tenant_id] = (now, limit)
    return limit


def limit_for(deps: Deps, principal: Principal, default: int) -> int:
    """Requests per second for this caller; 0: not limited."""
    if default <= 0:
        return 0
    own = tenant_limit(deps, principal.tenant_id) if principal.tenant_id else None
    return own if own is not None else default


def effective(settings: ApiSettings, default: int) -> int:
    """The limit a tenant with these settings gets; 0: not limited."""
    if default <= 0:
        return 0
    return settings.api_rate_limit if settings.api_rate_limit is not None else default


def admit(deps: Deps, principal: Principal, default: int = DEFAULT_PER_SECOND) -> None:
    """Count this request; raises :class:`ApiRateLimited` (429, ``Retry-After``) when the
    caller already made its limit of requests in the current second."""
    limit = limit_for(deps, principal, default)
    if limit <= 0:
        return
    second = int(deps.clock.now().timestamp())
    expires = datetime.fromtimestamp(second + COUNTER_SECONDS, UTC)
    if not deps.api_rate.hit(f"api#{caller(principal)}#{second}", limit, expires):
        raise ApiRateLimited(
            f"more than {limit} requests in one second with this key; slow down",
            retry_after=1,  # the next second admits again
        )


def api_settings(deps: Deps, tenant_id: str) -> ApiSettings:
    return deps.settings.api(tenant_id)


def put_api_settings(deps: Deps, tenant_id: str, settings: ApiSettings) -> None:
    deps.settings.put_api(tenant_id, settings)
    with _settings_lock:
        _settings.pop(tenant_id, None)
