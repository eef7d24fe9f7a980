"""Which function serves which path prefix: API Gateway (``infra``) and the local HTTP
front (``sendrail_local``) are both built from this table."""

from __future__ import annotations

# (path prefix, function). Longest prefix wins; "" matches nothing on its own.
ROUTES: tuple[tuple[str, str], ...] = (
    ("/health", "enqueue"),
    ("/openapi.json", "enqueue"),
    ("/api", "enqueue"),
    ("/oauth", "enqueue"),
    ("/app", "enqueue"),
    ("/track", "tracking"),
    ("/unsubscribe", "tracking"),
    ("/webhooks", "tracking"),
)

# Paths served without an API key (the rest of /api/* needs a Bearer token).
PUBLIC_PREFIXES: tuple[str, ...] = (
    "/health",
    "/openapi.json",
    "/oauth",
    "/app",  # the dashboard's static files; it signs in through /api
    "/track",
    "/unsubscribe",
    "/webhooks",
)


def function_for(path: str) -> str | None:
    best: tuple[int, str] | None = None
    for prefix, function in ROUTES:
        matches = path == prefix or path.startswith(prefix + "/")
        if matches and (best is None or len(prefix) > best[0]):
            best = (len(prefix), function)
    return best[1] if best else None
