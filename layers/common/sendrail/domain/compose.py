"""Turning a campaign and one recipient into the message to send."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sendrail.domain.mime import OutgoingMessage, message_id_for, text_template
from sendrail.domain.models import Campaign, Mailbox, Recipient
from sendrail.domain.templates import TemplateError, render


class FieldTemplateError(TemplateError):
    """A template of one field of the campaign (``subject``, ``html`` or ``text``) failed
    for this recipient; the message is the cause's."""

    def __init__(self, field: str, cause: TemplateError) -> None:
        super().__init__(str(cause), line=cause.line)
        self.field = field


def _render(field: str, source: str, data: dict[str, Any], *, html: bool = False) -> str:
    try:
        return render(source, data, html=html)
    except TemplateError as exc:
        raise FieldTemplateError(field, exc) from exc


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
    subject = " ".join(_render("subject", campaign.subject, data).split())  # one line
    html = _render("html", campaign.html, data, html=True)
    if campaign.text:
        text = _render("text", campaign.text, data)
    else:  # derived from the HTML template: its errors are the HTML's
        text = _render("html", text_template(campaign.html), data)
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
