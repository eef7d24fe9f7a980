"""The small HTML pages of the public endpoints (accessible: a language, a title, a real
form with a labelled button; no scripts)."""

from __future__ import annotations

import html

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;
line-height:1.5;color:#1a1a1a}}button{{font-size:1rem;padding:.6rem 1.2rem;border-radius:.4rem;
border:1px solid #1a1a1a;background:#1a1a1a;color:#fff;cursor:pointer}}
button:focus{{outline:3px solid #ffbf47;outline-offset:2px}}</style></head>
<body><main>{body}</main></body></html>
"""


def page(title: str, body: str) -> str:
    return _PAGE.format(title=html.escape(title), body=body)


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
