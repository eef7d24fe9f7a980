"""The web dashboard: a small static app (plain ES modules and one stylesheet, no build
step) shipped inside the package and served at ``/app/`` by the enqueue function.

:func:`asset` is the one way to read its files: a path of plain segments under ``static/``
with a known suffix, never ``..``, never a hidden file."""

from __future__ import annotations

import re
from importlib import resources

# Text only: API Gateway passes these through without binary media types.
CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
INDEX = "index.html"
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}")
MAX_DEPTH = 3

# The policy every /app response carries: scripts from here only, never inline. Styles
# and images are looser for one reason: the campaign preview (a sandboxed srcdoc iframe,
# scripts off) inherits this policy, and an email is inline styles and remote images.
# Our own pages put no value into a style or into HTML, so nothing can inject either.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'; object-src 'none'"
)


def asset(path: str) -> tuple[bytes, str] | None:
    """The file at ``path`` (relative to ``static/``; empty for the index) and its content
    type, or ``None`` when there is no such file or the path is not a plain one."""
    path = path or INDEX
    segments = path.split("/")
    if len(segments) > MAX_DEPTH or not all(_SEGMENT.fullmatch(s) for s in segments):
        return None
    if any(s.startswith(".") or ".." in s for s in segments):
        return None
    suffix = "." + segments[-1].rsplit(".", 1)[-1] if "." in segments[-1] else ""
    content_type = CONTENT_TYPES.get(suffix)
    if content_type is None:
        return None
    node = resources.files(__name__).joinpath("static", *segments)
    if not node.is_file():
        return None
    return node.read_bytes(), content_type
