"""Turning a campaign and one recipient into the message to send."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sendrail.domain.mime import OutgoingMessage, message_id_for, text_template
from sendrail.domain.models import Campaign, Mailbox, Recipient
from sendrail.domain.templates import render


@dataclass(frozen=True)
class Personalisation:
    """What tracking adds to one message: merge data (``unsubscribe_url`` …), headers
    (``List-Unsubscribe`` …) and rewrites of the HTML (footer, pixel, click links) and of
    the text (footer)."""

    data: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    rewrite_html: Callable[[str], str] | None = None
    rewrite_text: Callable[[str], str] | None = None


def compose(
    campaign: Campaign,
    recipient: Recipient,
    mailbox: Mailbox,
    now: datetime,
    extra: Personalisation | None = None,
) -> OutgoingMessage:
    extra = extra or Personalisation()
    data: dict[str, Any] = {**recipient.data, "email": recipient.email, **extra.data}
    subject = " ".join(render(campaign.subject, data).split())  # no line breaks survive
    html = render(campaign.html, data, html=True)
    text = render(campaign.text or text_template(campaign.html), data)
    if extra.rewrite_html is not None:
        html = extra.rewrite_html(html)
    if extra.rewrite_text is not None:
        text = extra.rewrite_text(text)
    headers = {**campaign.headers, **extra.headers}
    return OutgoingMessage(
        message_id=recipient.message_id
        or message_id_for(campaign.id, recipient.email, mailbox.domain),
        from_email=mailbox.email,
        from_name=campaign.from_name or mailbox.from_name,
        to=recipient.email,
        subject=subject,
        html=html,
        text=text,
        date=now,
        reply_to=campaign.reply_to,
        headers=headers,
    )
