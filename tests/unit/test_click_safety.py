"""Click tracking never turns an href into a header (issue 12): what the rewriter signs is
printable ASCII, and a token carrying anything else does not read back."""

import html

from hypothesis import given
from hypothesis import strategies as st
from sendrail.domain import tracking
from sendrail.domain.tracking import Target
from sendrail.services.personalise import personaliser

KEY = b"unit-test-signing-key-0123456789"
BASE = "https://t.example"


def _signed(document: str) -> list[str]:
    seen: list[str] = []

    def replace(url: str) -> str:
        seen.append(url)
        return "https://t.example/c"

    tracking.rewrite_links(document, replace)
    return seen


def test_given_encoded_line_breaks_in_an_href_then_the_signed_url_has_none():
    document = '<a href="https://shop.example/a&#13;&#10;Set-Cookie: sid=evil">x</a>'
    assert _signed(document) == ["https://shop.example/aSet-Cookie:%20sid=evil"]


def test_given_spaces_controls_and_non_ascii_then_they_are_percent_encoded():
    document = (
        '<a href=" https://shop.example/a b">1</a>'
        '<a href="https://shop.example/\x00\x7f\x85">2</a>'
        '<a href="https://shop.example/caf&eacute;?q=&#8232;">3</a>'
        '<a href="https://shop.example/ok?a=1&amp;b=%41">4</a>'
    )
    assert _signed(document) == [
        "https://shop.example/a%20b",
        "https://shop.example/%00%7F%C2%85",
        "https://shop.example/caf%C3%A9?q=%E2%80%A8",
        "https://shop.example/ok?a=1&b=%41",
    ]


def test_given_a_signed_url_with_a_line_break_then_the_token_does_not_read():
    # A token made before the rewriter was fixed: it verifies, but is refused.
    for url in ("https://x.example/\r\nSet-Cookie:a=b", "https://x.example/a b", "https://x/\x00"):
        value = tracking.token(KEY, tracking.CLICK, Target("t", "c", "e@x.io", url))
        assert tracking.read(KEY, tracking.CLICK, value) is None


_ENTITY = (
    st.integers(min_value=0, max_value=0x10FFFF)
    .filter(lambda c: not 0xD800 <= c <= 0xDFFF)
    .map(lambda c: f"&#{c};")
)
_HREF_PART = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
    _ENTITY,
    st.sampled_from(["&#13;&#10;", "&#x0d;&#x0a;", "\r\n", "&NewLine;", "&Tab;", " ", "%0d%0a"]),
)
_HREF = st.lists(_HREF_PART, max_size=6).map("".join)


@given(_HREF, st.sampled_from(['"', "'"]))
def test_given_any_href_then_every_url_signed_is_printable_ascii(tail, quote):
    raw = ("https://shop.example/" + tail).replace(quote, "")
    document = f"<p><a href={quote}{raw}{quote}>x</a></p>"
    for url in _signed(document):
        assert tracking.is_safe_location(url), url
        assert url.startswith("https://shop.example/")


@given(_HREF)
def test_given_any_href_then_the_personalised_click_link_reads_back_safe(tail):
    from datetime import UTC, datetime

    from sendrail.domain.models import Campaign, Mailbox, Provider, Recipient, SendingSettings

    now = datetime(2026, 11, 23, tzinfo=UTC)
    campaign = Campaign(
        id="cmp_1", tenant_id="t", name="n", subject="s", html="h", created_at=now, updated_at=now
    )
    recipient = Recipient(
        campaign_id="cmp_1", email="ann@x.example", tenant_id="t", created_at=now, updated_at=now
    )
    mailbox = Mailbox(
        id="m",
        tenant_id="t",
        provider=Provider.SMTP,
        email="s@x.example",
        created_at=now,
        updated_at=now,
    )
    extra = personaliser(KEY, BASE)(campaign, recipient, mailbox, SendingSettings())
    assert extra.rewrite_html is not None
    href = html.escape("https://shop.example/" + tail, quote=True)
    out = extra.rewrite_html(f'<a href="{href}">x</a>')
    for token in (part.split('"', 1)[0] for part in out.split("/track/click/")[1:]):
        target = tracking.read(KEY, tracking.CLICK, token)
        assert target is not None and target.url is not None
        assert tracking.is_safe_location(target.url)


@given(st.text(max_size=40))
def test_given_any_text_then_browser_url_is_printable_ascii_and_stable(text):
    url = tracking.browser_url(text)
    assert url == "" or tracking.is_safe_location(url)
    assert tracking.browser_url(url) == url


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40))
def test_given_a_link_already_printable_ascii_then_it_is_left_as_written(text):
    assert tracking.browser_url(text) == text
