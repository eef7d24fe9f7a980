"""Which function serves which path prefix: API Gateway (``infra``) and the local HTTP
front (``sendrail_local``) are both built from these tables."""

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

# What readers follow from sent mail (open pixel, clicks, the unsubscribe page and RFC 8058's
# one-click POST): (path prefix, methods). The tracking HTTP API serves these (payload format
# 2.0, the links dispatch writes now); the REST API keeps them too, for links already sent.
READER_ROUTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("/track", ("GET",)),
    ("/unsubscribe", ("GET", "POST")),
)


def reader_route(method: str, path: str) -> str | None:
    """The tracking HTTP API's route key for this request (``GET /track/{proxy+}``), or
    ``None`` when only the REST API serves it."""
    for prefix, methods in READER_ROUTES:
        # ``{proxy+}`` matches one character or more
        if path.startswith(prefix + "/") and len(path) > len(prefix) + 1 and method in methods:
            return f"{method} {prefix}/{{proxy+}}"
    return None


def function_for(path: str) -> str | None:
    best: tuple[int, str] | None = None
    for prefix, function in ROUTES:
        matches = path == prefix or path.startswith(prefix + "/")
        if matches and (best is None or len(prefix) > best[0]):
            best = (len(prefix), function)
    return best[1] if best else None
