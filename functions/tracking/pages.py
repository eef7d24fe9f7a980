"""The small HTML pages of the public endpoints (accessible: a language, a title, a real
form with a labelled button; no scripts), and the headers they are served with."""

from __future__ import annotations

import base64
import hashlib
import html

_STYLE = """body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;
line-height:1.5;color:#1a1a1a}button{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;
border:1px solid #1a1a1a;background:#1a1a1a;color:#fff;cursor:pointer}
button:focus{outline:3px solid #ffbf47;outline-offset:2px}"""

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>{style}</style></head>
<body><main>{body}</main></body></html>
"""

# The pages load nothing and run no script, their one style block is allowed by its hash,
# and their form posts only to the page itself; nobody may frame them (clickjacking the
# unsubscribe button); no MIME sniffing; the token in the address never leaves in a Referer.
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def page(title: str, body: str) -> str:
    return _PAGE.format(title=html.escape(title), style=_STYLE, body=body)


def confirm_unsubscribe(email: str) -> str:
    return page(
        "Unsubscribe",
        (
            "<h1>Unsubscribe</h1>"
            f"<p>Stop all email to <strong>{html.escape(email)}</strong> from this sender?</p>"
            '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
            '<button type="submit">Unsubscribe</button></form>'
        ),
    )


def unsubscribed(email: str) -> str:
    return page(
        "Unsubscribed",
        (
            "<h1>You are unsubscribed</h1>"
            f"<p>No more email will be sent to <strong>{html.escape(email)}</strong>"
            " by this sender.</p>"
        ),
    )


def not_found() -> str:
    return page(
        "Link not valid", "<h1>This link is not valid</h1><p>It may be incomplete or altered.</p>"
    )
