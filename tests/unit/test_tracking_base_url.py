"""Where the links in sent mail point: ``SENDRAIL_TRACKING_BASE_URL`` (the tracking HTTP
API or a branded tracking domain), else the public base URL as before."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sendrail.domain.compose import compose
from sendrail.domain.mime import read_back
from sendrail.domain.models import Campaign, Mailbox, Provider, Recipient, SendingSettings
from sendrail.services.personalise import personaliser
from sendrail.settings import CommonSettings
from sendrail.storage.tables import MODELS

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PUBLIC = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"
HTML = '<p>Hi</p><a href="https://shop.example/sale">sale</a> <a href="{{ unsubscribe_url }}">u</a>'


def settings() -> CommonSettings:
    return CommonSettings(tables={name: name for name in MODELS}, queues={})


def test_given_no_tracking_base_url_then_links_use_the_public_base_url(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("SENDRAIL_TRACKING_BASE_URL", raising=False)
    monkeypatch.setenv("SENDRAIL_PUBLIC_BASE_URL", PUBLIC + "/")
    assert settings().tracking_base_url is None
    assert settings().tracking_url() == PUBLIC


def test_given_a_tracking_base_url_then_links_use_it_and_the_public_url_stays(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("SENDRAIL_PUBLIC_BASE_URL", PUBLIC)
    monkeypatch.setenv("SENDRAIL_TRACKING_BASE_URL", "https://t.example.com/")
    assert settings().tracking_url() == "https://t.example.com"
    assert settings().public_base_url == PUBLIC


def test_given_the_tracking_base_url_then_every_link_of_a_composed_message_uses_it(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("SENDRAIL_PUBLIC_BASE_URL", PUBLIC)
    monkeypatch.setenv("SENDRAIL_TRACKING_BASE_URL", "https://t.example.com")
    campaign = Campaign(
        id="cmp_1",
        tenant_id="ten_1",
        name="Sale",
        subject="Sale",
        html=HTML,
        created_at=NOW,
        updated_at=NOW,
    )
    mailbox = Mailbox(
        id="mbx_1",
        tenant_id="ten_1",
        provider=Provider.SMTP,
        email="news@example.com",
        created_at=NOW,
        updated_at=NOW,
    )
    reader = Recipient(
        campaign_id="cmp_1",
        email="ann@example.org",
        tenant_id="ten_1",
        created_at=NOW,
        updated_at=NOW,
    )
    personalise = personaliser(b"k" * 32, settings().tracking_url())
    extra = personalise(campaign, reader, mailbox, SendingSettings())
    message = read_back(compose(campaign, reader, mailbox, NOW, extra).as_bytes())

    assert 'src="https://t.example.com/track/open/' in message.html
    assert 'href="https://t.example.com/track/click/' in message.html
    assert 'href="https://t.example.com/unsubscribe/' in message.html
    assert message.headers["List-Unsubscribe"].startswith("<https://t.example.com/unsubscribe/")
    assert "execute-api" not in message.html + message.text
