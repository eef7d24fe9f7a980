"""Tracking, pure: signed tokens, link rewriting, the pixel and machine opens."""

import html

from hypothesis import given
from hypothesis import strategies as st
from sendrail.domain import tracking
from sendrail.domain.tracking import Target

KEY = b"unit-test-signing-key-0123456789"
WHO = Target("ten_1", "cmp_1", "ann@example.com")


def _tracked(url: str) -> str:
    return "T:" + url


def test_given_a_click_token_then_it_reads_back_its_url_and_nothing_else_reads_it():
    value = tracking.token(
        KEY, tracking.CLICK, Target("ten_1", "cmp_1", "a@x.io", "https://x.io/p")
    )
    assert tracking.read(KEY, tracking.CLICK, value) == Target(
        "ten_1", "cmp_1", "a@x.io", "https://x.io/p"
    )
    assert tracking.read(KEY, tracking.UNSUBSCRIBE, value) is None  # another purpose
    assert tracking.read(b"another-key-0123456789abcdef0000", tracking.CLICK, value) is None


@given(st.integers(min_value=0, max_value=200), st.sampled_from("AZaz09-_."))
def test_given_any_changed_character_then_the_token_does_not_verify(position, char):
    value = tracking.token(KEY, tracking.CLICK, Target("ten_1", "cmp_1", "a@x.io", "https://x.io"))
    index = position % len(value)
    if value[index] == char:
        return
    tampered = value[:index] + char + value[index + 1 :]
    assert tracking.read(KEY, tracking.CLICK, tampered) is None


def test_given_a_signed_token_for_a_non_web_url_then_it_is_refused():
    # Even a correctly signed token never redirects to javascript: or data: URLs.
    for url in ("javascript:alert(1)", "data:text/html,x", "//evil.example/"):
        value = tracking.token(KEY, tracking.CLICK, Target("t", "c", "e@x.io", url))
        assert tracking.read(KEY, tracking.CLICK, value) is None


def test_given_html_then_only_trackable_links_are_rewritten_and_the_rest_kept_byte_for_byte():
    document = (
        "<html><body>\n"
        '<a href="https://shop.example/a?x=1&amp;y=2">shop</a>\n'
        "<a href='mailto:hi@example.com'>mail</a>\n"
        '<a href="tel:+123">call</a>\n'
        '<a href="#top">top</a>\n'
        '<a data-sendrail-skip href="https://skip.example/">skip</a>\n'
        '<!-- <a href="https://comment.example/">hidden</a> -->\n'
        "<A HREF=https://upper.example/x>upper</A>\n"
        "</body></html>"
    )
    out = tracking.rewrite_links(document, _tracked)
    assert html.escape("T:https://shop.example/a?x=1&y=2", quote=True) in out
    assert "T:https://upper.example/x" in out
    for kept in ("mailto:hi@example.com", "tel:+123", "#top", "https://skip.example/"):
        assert kept in out and "T:" + kept not in out
    assert '<!-- <a href="https://comment.example/">hidden</a> -->' in out
    # Everything but the two rewritten values is unchanged.
    rebuilt = out.replace(
        html.escape("T:https://shop.example/a?x=1&y=2", quote=True),
        "https://shop.example/a?x=1&amp;y=2",
    ).replace("T:https://upper.example/x", "https://upper.example/x")
    assert rebuilt == document


def test_given_a_replacement_that_declines_then_the_link_stays():
    document = '<a href="https://keep.example/">k</a>'
    assert tracking.rewrite_links(document, lambda url: None) == document


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(
    st.lists(
        st.tuples(
            _text, st.from_regex(r"https://[a-z]{1,8}\.example/[a-z0-9]{0,8}", fullmatch=True)
        ),
        max_size=5,
    )
)
def test_given_any_document_of_links_then_rewriting_visits_each_link_once(parts):
    document = "".join(
        f'{html.escape(text)}<a href="{url}">{html.escape(text)}</a>' for text, url in parts
    )
    seen: list[str] = []

    def replace(url: str) -> str:
        seen.append(url)
        return url  # identity: the document must come back unchanged

    assert tracking.rewrite_links(document, replace) == document
    assert seen == [url for _, url in parts]


def test_given_a_document_then_the_pixel_goes_before_the_body_end():
    out = tracking.add_pixel("<html><BODY>hi</BODY></html>", "https://t.example/o/1?a=1&b=2")
    assert out.index("<img") < out.index("</BODY>")
    assert 'src="https://t.example/o/1?a=1&amp;b=2"' in out
    assert tracking.add_pixel("hi", "https://t.example/o").startswith("hi<img")


def test_given_known_proxies_and_scanners_then_they_are_machine_opens():
    assert tracking.is_machine("Mozilla/5.0", "17.58.1.1")  # Apple Mail Privacy Protection
    assert tracking.is_machine("Mozilla/5.0", "203.0.113.9")
    assert tracking.is_machine(None, None)
    assert tracking.is_machine("Barracuda Sentinel (EE)", "203.0.113.9")
    assert tracking.is_machine("python-requests/2.32", "203.0.113.9")
    assert not tracking.is_machine(
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "66.249.84.1",
    )
    assert not tracking.is_machine(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15", "198.51.100.4"
    )


@given(st.booleans(), st.sampled_from([tracking.OPEN, tracking.CLICK, tracking.UNSUBSCRIBE]))
def test_given_a_token_then_its_test_mark_reads_back_as_made(test, purpose):
    # Given a token made for a proof or a preview (test) or for a real send
    url = "https://shop.example/a" if purpose == tracking.CLICK else None
    made = Target("t1", "c1", "ann@x.example", url, test=test)
    # Then it reads back with the same mark: a real send's tokens are never test ones
    assert tracking.read(KEY, purpose, tracking.token(KEY, purpose, made)) == made
