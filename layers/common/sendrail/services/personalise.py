"""What tracking adds to each message at send time, computed locally (no AWS call): the
unsubscribe link and headers (RFC 8058 one-click), click rewriting and the open pixel.
Links use the deployment's public base URL (the API stage or a custom domain; the HTTP
front locally)."""

from __future__ import annotations

from collections.abc import Callable

from sendrail.domain import footer, tracking
from sendrail.domain.compose import Personalisation
from sendrail.domain.models import Campaign, CampaignKind, Mailbox, Recipient, SendingSettings
from sendrail.domain.tracking import Target

Personalise = Callable[[Campaign, Recipient, Mailbox, SendingSettings], Personalisation]


def personaliser(signing_key: bytes, base_url: str, *, test: bool = False) -> Personalise:
    """Dispatch's personalisation; with ``test`` (proofs and previews) every token is
    marked as a test: its links work and record nothing (``domain.tracking``)."""
    base = base_url.rstrip("/")

    def personalise(
        campaign: Campaign, recipient: Recipient, mailbox: Mailbox, settings: SendingSettings
    ) -> Personalisation:
        who = Target(recipient.tenant_id, campaign.id, recipient.email, test=test)
        unsubscribe = f"{base}/unsubscribe/{tracking.token(signing_key, tracking.UNSUBSCRIBE, who)}"
        data = {"unsubscribe_url": unsubscribe}
        headers: dict[str, str] = {}
        if campaign.kind is CampaignKind.CAMPAIGN:
            # Bulk mail: Gmail's and Yahoo's sender rules want one-click unsubscribe.
            mailto = (
                f", <mailto:{settings.unsubscribe_mailto}?subject=unsubscribe>"
                if settings.unsubscribe_mailto
                else ""
            )
            headers = {
                "List-Unsubscribe": f"<{unsubscribe}>{mailto}",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        html_footer = (
            footer.html_footer(unsubscribe, settings.postal_address)
            if footer.html_needs_footer(campaign, settings)
            else ""
        )
        text_footer = (
            footer.text_footer(unsubscribe, settings.postal_address)
            if footer.text_needs_footer(campaign, settings)
            else ""
        )

        def add_text(text: str) -> str:
            return text + text_footer

        def add_footer(document: str) -> str:
            return footer.add_to_html(document, html_footer) if html_footer else document

        if not (campaign.track_clicks or campaign.track_opens):
            return Personalisation(
                data=data,
                headers=headers,
                rewrite_html=add_footer if html_footer else None,
                rewrite_text=add_text if text_footer else None,
            )

        def click(url: str) -> str | None:
            if url == unsubscribe or url.startswith(base + "/"):
                return None
            target = Target(recipient.tenant_id, campaign.id, recipient.email, url, test=test)
            return f"{base}/track/click/{tracking.token(signing_key, tracking.CLICK, target)}"

        def rewrite(document: str) -> str:
            document = add_footer(document)
            if campaign.track_clicks:
                document = tracking.rewrite_links(document, click)
            if campaign.track_opens:
                pixel = f"{base}/track/open/{tracking.token(signing_key, tracking.OPEN, who)}"
                document = tracking.add_pixel(document, pixel)
            return document

        return Personalisation(
            data=data,
            headers=headers,
            rewrite_html=rewrite,
            rewrite_text=add_text if text_footer else None,
        )

    return personalise
