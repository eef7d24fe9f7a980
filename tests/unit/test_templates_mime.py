"""Merge tags, MIME building, header safety, signing, addresses, retry, warm-up."""

import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from sendrail.domain import signing, templates
from sendrail.domain.addresses import InvalidAddress, normalize
from sendrail.domain.compose import compose
from sendrail.domain.headers import check_name, check_value
from sendrail.domain.mime import OutgoingMessage, message_id_for
from sendrail.domain.models import Campaign, Mailbox, Provider, Recipient, Warmup
from sendrail.domain.retry import RetryPolicy
from sendrail.domain.warmup import effective_daily_limit

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_given_known_and_unknown_tags_then_unknown_render_empty():
    assert templates.render("Hi {{ first_name }}{{ missing }}!", {"first_name": "Ann"}) == "Hi Ann!"
    assert templates.render("{{ a.b.c }}", {}) == ""


def test_given_html_then_values_are_escaped():
    assert (
        templates.render("<b>{{ x }}</b>", {"x": "<script>"}, html=True) == "<b>&lt;script&gt;</b>"
    )


def test_given_a_broken_template_then_check_names_the_line():
    with pytest.raises(templates.TemplateError) as info:
        templates.check("line one\n{{ broken ")
    assert info.value.line == 2


def test_given_a_sandbox_escape_attempt_then_it_fails_safely():
    with pytest.raises(templates.TemplateError):
        templates.render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})


@pytest.mark.parametrize("value", ["a\r\nBcc: x@y.z", "a\nb", "a\rb", "a\x00b", "a\u2028b"])
def test_given_line_breaks_in_header_values_then_refused(value):
    with pytest.raises(ValueError):
        check_value(value)


@pytest.mark.parametrize("name", ["From", "Bcc", "bad name", "X:Y", ""])
def test_given_reserved_or_invalid_header_names_then_refused(name):
    with pytest.raises(ValueError):
        check_name(name)


def _campaign(**extra):
    return Campaign(
        id="cmp_1",
        tenant_id="t",
        name="n",
        subject="Hi {{ first_name }}",
        html="<p>Hello <b>{{ first_name }}</b></p>",
        created_at=NOW,
        updated_at=NOW,
        **extra,
    )


def _mailbox():
    return Mailbox(
        id="mbx_1",
        tenant_id="t",
        provider=Provider.SMTP,
        email="sender@example.com",
        from_name="Sender Co",
        created_at=NOW,
        updated_at=NOW,
    )


def test_given_a_campaign_then_compose_builds_a_multipart_message_with_stable_id():
    recipient = Recipient(
        campaign_id="cmp_1",
        email="ann@x.com",
        tenant_id="t",
        data={"first_name": "Ann"},
        created_at=NOW,
        updated_at=NOW,
    )
    out = compose(_campaign(headers={"X-Campaign": "spring"}), recipient, _mailbox(), NOW)
    parsed = email.message_from_bytes(out.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Hi Ann"
    assert parsed["Message-ID"] == message_id_for("cmp_1", "ann@x.com", "example.com")
    assert parsed["From"] == "Sender Co <sender@example.com>"
    assert parsed["X-Campaign"] == "spring"
    assert parsed.get_body(("plain",)).get_content().strip() == "Hello **Ann**"
    assert "<b>Ann</b>" in parsed.get_body(("html",)).get_content()


def test_given_a_subject_made_multiline_by_data_then_it_stays_one_line():
    recipient = Recipient(
        campaign_id="c",
        email="a@x.com",
        tenant_id="t",
        data={"first_name": "A\r\nBcc: evil@x.com"},
        created_at=NOW,
        updated_at=NOW,
    )
    out = compose(_campaign(), recipient, _mailbox(), NOW)
    head = out.as_bytes().split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head
    assert b"Subject: Hi A Bcc: evil@x.com" in head


def test_given_a_display_name_with_newline_then_building_refuses():
    message = OutgoingMessage(
        message_id="<a@b>",
        from_email="s@x.com",
        from_name="A\nB",
        to="t@x.com",
        subject="s",
        html="h",
        text="t",
        date=NOW,
    )
    with pytest.raises(ValueError):
        message.as_bytes()


def test_given_signed_tokens_then_tampering_and_other_purposes_fail():
    token = signing.sign(b"k", "click", {"u": "https://x"})
    assert signing.verify(b"k", "click", token) == {"u": "https://x"}
    for bad in (token + "x", token.replace(".", ".A"), "garbage"):
        with pytest.raises(signing.SignatureError):
            signing.verify(b"k", "click", bad)
    with pytest.raises(signing.SignatureError):
        signing.verify(b"k", "open", token)
    with pytest.raises(signing.SignatureError):
        signing.verify(b"other", "click", token)


def test_given_addresses_then_they_are_normalised_case_insensitively():
    assert normalize("  Ann.Smith@Example.COM ") == "ann.smith@example.com"
    with pytest.raises(InvalidAddress):
        normalize("not-an-address")


def test_given_retries_then_backoff_grows_with_jitter_and_honours_retry_after():
    policy_ = RetryPolicy(max_attempts=3, base_seconds=60, factor=4)
    assert 30 <= policy_.delay(1) <= 60
    assert 120 <= policy_.delay(2) <= 240
    assert policy_.delay(1, floor=500) >= 500
    assert policy_.should_retry(2) and not policy_.should_retry(3)


def test_given_a_warmup_then_the_daily_limit_ramps_and_caps():
    mailbox = _mailbox().model_copy(
        update={
            "warmup": Warmup(start_per_day=10, increase_percent=50, max_per_day=40),
            "warmup_started_at": NOW,
            "daily_limit": 35,
        }
    )
    assert effective_daily_limit(mailbox, NOW) == 10
    assert effective_daily_limit(mailbox, NOW + timedelta(days=1)) == 15
    assert effective_daily_limit(mailbox, NOW + timedelta(days=3)) == 33
    assert effective_daily_limit(mailbox, NOW + timedelta(days=30)) == 35
    assert effective_daily_limit(mailbox, NOW + timedelta(days=100000)) == 35


def test_given_an_html_template_then_its_text_template_keeps_merge_tags_intact():
    from sendrail.domain.mime import text_template

    source = (
        "<p>Hi <b>{{ first_name }}</b>,</p>{% if vip_level %}<p>VIP_{{ vip_level }}</p>{% endif %}"
        '<a href="https://x.example/{{ user_id }}">link</a>'
    )
    text = text_template(source)
    assert "{{ first_name }}" in text and "{% if vip_level %}" in text and "{% endif %}" in text
    rendered = templates.render(text, {"first_name": "Ann", "vip_level": 2, "user_id": "u_1"})
    assert "Ann" in rendered and "VIP_2" in rendered and "https://x.example/u_1" in rendered


def test_given_non_ascii_headers_then_they_are_encoded_and_lines_end_in_crlf():
    message = OutgoingMessage(
        message_id="<a@example.com>",
        from_email="s@example.com",
        from_name="Zoë Ångström",
        to="t@example.com",
        subject="Olá — ça va?",
        html="<p>é</p>",
        text="é",
        date=NOW,
        headers={"X-Note": "naïve"},
    )
    raw = message.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"\n" not in head.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == "Olá — ça va?"
    assert parsed["From"].addresses[0].display_name == "Zoë Ångström"
    assert parsed["X-Note"] == "naïve"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>é</p>"
