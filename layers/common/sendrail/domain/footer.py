"""The automatic unsubscribe footer: appended to a campaign whose template has no
``{{ unsubscribe_url }}`` (unless the tenant turned it off), with the tenant's postal
address (CAN-SPAM asks for a physical address in every commercial message)."""

from __future__ import annotations

import html

from sendrail.domain.models import Campaign, CampaignKind, SendingSettings
from sendrail.domain.templates import merge_tags

UNSUBSCRIBE_TAG = "unsubscribe_url"


def has_link(source: str) -> bool:
    """Does the template place the unsubscribe link itself?"""
    return UNSUBSCRIBE_TAG in merge_tags(source)


def html_needs_footer(campaign: Campaign, settings: SendingSettings) -> bool:
    return (
        campaign.kind is CampaignKind.CAMPAIGN
        and settings.unsubscribe_footer
        and not has_link(campaign.html)
    )


def text_needs_footer(campaign: Campaign, settings: SendingSettings) -> bool:
    return (
        campaign.kind is CampaignKind.CAMPAIGN
        and settings.unsubscribe_footer
        and not has_link(campaign.text or campaign.html)
    )


def html_footer(unsubscribe_url: str, postal_address: str | None) -> str:
    address = (
        f"<br>{'<br>'.join(html.escape(line.strip()) for line in postal_address.splitlines())}"
        if postal_address
        else ""
    )
    return (
        '<div style="margin-top:24px;font-size:12px;color:#666666;text-align:center">'
        f'<a href="{html.escape(unsubscribe_url, quote=True)}" style="color:#666666">'
        f"Unsubscribe</a>{address}</div>"
    )


def text_footer(unsubscribe_url: str, postal_address: str | None) -> str:
    address = f"\n{postal_address.strip()}" if postal_address else ""
    return f"\n\n--\nUnsubscribe: {unsubscribe_url}{address}\n"


def add_to_html(document: str, footer: str) -> str:
    """Before ``</body>`` when there is one, else at the end."""
    at = document.lower().rfind("</body>")
    if at == -1:
        return document + footer
    return document[:at] + footer + document[at:]
