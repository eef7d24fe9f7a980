"""Content checks on real-world-like mail: a clean newsletter, a spammy cold email, broken
HTML. Pure: no AWS."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from sendrail.domain.content_check import (
    GMAIL_CLIP_BYTES,
    Content,
    Finding,
    Severity,
    check,
    has_errors,
    link_problem,
)
from sendrail.domain.footer import add_to_html, html_footer, text_footer

NEWSLETTER = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Acme Monthly</title>
  <style>td { font-family: Helvetica, Arial, sans-serif; }</style>
</head>
<body style="margin:0;padding:0;background:#f4f4f4">
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0">
    <tr><td align="center">
      <table role="presentation" width="600">
        <tr><td><img src="https://cdn.acme.example/logo.png" alt="Acme" width="120"></td></tr>
        <tr><td>
          <h1>Hello {{ first_name | default('there') }},</h1>
          <p>November brought three releases. Scheduling now honours each recipient's
          timezone, imports of a million rows finish in minutes, and reports export to CSV.
          We also rewrote the delivery dashboard so that bounces and complaints show up
          per mailbox, with the reason each provider gave.
          <p>Read the <a href="https://acme.example/blog/november">full changelog</a> or
          reply to this email: a person reads every answer. As always, thank you for the
          feedback that shaped these changes; keep it coming.</p>
        </td></tr>
        <tr><td style="font-size:12px;color:#888">
          You receive this because you signed up at acme.example.
          <a href="{{ unsubscribe_url }}">Unsubscribe</a>
        </td></tr>
      </table>
    </td></tr>
  </table>
  <img src="https://acme.example/p.gif" width="1" height="1" alt="">
</body>
</html>"""

COLD_EMAIL = """<p>Hi {{ first_name }},</p>
<p>CONGRATULATIONS! You have been selected for a limited time offer. Make money from
home, 100% free, no credit check, guaranteed. Act now!</p>
<p><a href="http://bit.ly/3xYz">Click here</a> to claim your prize or
<a href="http://203.0.113.7/offer">see the offer</a>.</p>
<p>Regards, {{ sender_name }}</p>"""

BROKEN = """<html><head><link rel="stylesheet" href="https://cdn.example/mail.css">
<style>@import url("https://fonts.example/font.css");</style></head>
<body><div class="wrap"><table><tr><td><b>Sale
<form action="https://shop.example/subscribe"><input name="email"></form>
<script>track()</script>
<a href="https://[::1">broken</a> <a href="javascript:alert(1)">js</a>
</td></tr></table></span></body></html>"""


def codes(findings: list[Finding]) -> dict[str, Finding]:
    return {f.code: f for f in findings}


def newsletter(**kw: object) -> Content:
    fields: dict[str, object] = {
        "subject": "Acme Monthly: November's releases",
        "html": NEWSLETTER,
        "text": "Hello {{ first_name }}, ... Unsubscribe: {{ unsubscribe_url }}",
        "postal_address": "Acme Ltd, 1 Main Street, Springfield",
        "data_keys": frozenset({"first_name"}),
        "sampled": 3,
    }
    fields.update(kw)
    return Content(**fields)  # type: ignore[arg-type]


def test_given_a_clean_newsletter_then_nothing_is_found() -> None:
    findings = check(newsletter())
    assert findings == [], [f.as_dict() for f in findings]


def test_given_a_cold_email_then_spam_links_tags_and_subject_are_flagged() -> None:
    # Given a spammy cold email whose recipients only carry first_name
    content = Content(
        subject="FREE MONEY FOR YOU!!!",
        html=COLD_EMAIL,
        data_keys=frozenset({"first_name", "company"}),
        sampled=2,
    )
    # When it is checked
    found = codes(check(content))
    # Then each problem is named, with its evidence
    spam = found["spam_phrases"]
    assert spam.severity is Severity.WARNING and spam.detail["score"] >= 10
    assert {"make money", "no credit check", "act now", "limited time"} <= set(
        spam.detail["phrases"]
    )
    assert found["unknown_merge_tags"].detail["tags"] == ["sender_name"]
    links = found["link_problems"].detail["links"]
    assert links["shortener"] == ["http://bit.ly/3xYz"]
    assert links["ip_address"] == ["http://203.0.113.7/offer"]
    assert found["link_problems"].severity is Severity.WARNING
    assert set(found["subject_problems"].detail["problems"]) == {
        "all capitals",
        "excessive punctuation",
    }
    assert found["missing_postal_address"].severity is Severity.WARNING
    assert found["no_text_part"].severity is Severity.INFO
    assert "missing_unsubscribe_link" not in found  # the automatic footer adds it
    assert not has_errors(check(content))


def test_given_broken_html_then_unclosed_tags_scripts_forms_and_external_css_are_named() -> None:
    found = codes(check(newsletter(html=BROKEN)))
    problems = {p["problem"]: p for p in found["broken_html"].detail["problems"]}
    assert set(problems["unclosed_tags"]["tags"]) == {"b", "div"}
    assert problems["stray_end_tags"]["tags"] == ["span"]
    assert {"script", "form", "external_css", "css_import"} <= problems.keys()
    # A link that cannot be followed is an error: start refuses it
    assert found["link_problems"].severity is Severity.ERROR
    assert set(found["link_problems"].detail["links"]) == {"unparseable", "script_link"}


def test_given_no_unsubscribe_link_and_the_footer_off_then_it_is_an_error() -> None:
    html = "<p>Hello {{ first_name }}, news inside. " + "Words about the product. " * 30 + "</p>"
    found = codes(check(newsletter(html=html, text=None, footer=False)))
    assert found["missing_unsubscribe_link"].severity is Severity.ERROR
    # With the footer on (the default) the same HTML passes
    assert "missing_unsubscribe_link" not in codes(check(newsletter(html=html, footer=True)))


def test_given_mostly_images_then_image_heavy() -> None:
    html = (
        '<p><a href="https://shop.example"><img src="https://cdn.example/a.jpg"></a>'
        '<img src="https://cdn.example/b.jpg"><img src="https://cdn.example/c.jpg"></p>'
        '<p>Shop now. <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
    )
    found = codes(check(newsletter(html=html)))
    assert found["image_heavy"].detail["images"] == 3


def test_given_html_over_gmails_clip_then_too_large() -> None:
    html = NEWSLETTER.replace("<p>Read", "<p>" + "x" * GMAIL_CLIP_BYTES + "</p><p>Read")
    found = codes(check(newsletter(html=html)))
    assert found["too_large"].detail["bytes"] > GMAIL_CLIP_BYTES


def test_given_subjects_then_empty_is_an_error_and_long_is_a_warning() -> None:
    assert codes(check(newsletter(subject="   ")))["subject_problems"].severity is Severity.ERROR
    long = codes(check(newsletter(subject="News " * 40)))["subject_problems"]
    assert long.severity is Severity.WARNING and long.detail["length"] > 150
    # merge tags do not count as capitals; one exclamation mark is fine
    assert "subject_problems" not in codes(check(newsletter(subject="Hi {{ first_name }}!")))


def test_given_links_then_each_problem_is_classified() -> None:
    assert link_problem("https://acme.example/a?b=c") is None
    assert link_problem("{{ unsubscribe_url }}") is None
    assert link_problem("mailto:hi@acme.example") is None
    assert link_problem("http://acme.example") == "insecure_http"
    assert link_problem("https://tinyurl.com/abc") == "shortener"
    assert link_problem("https://[2001:db8::1]/x") == "ip_address"
    assert link_problem("https://acme.example:99999/") == "unparseable"
    assert link_problem("https:///nohost") == "unparseable"
    assert link_problem("") == "empty"
    # Read as a browser reads it: a space or a hidden line break does not break a link
    assert link_problem("https://acme.example/my page") is None
    assert link_problem("https://acme.example/a\r\nSet-Cookie: x") is None
    assert link_problem("ftp://acme.example/file") == "unsupported_scheme"
    assert link_problem("/pricing") == "relative"  # no site to resolve it against in mail


def test_given_a_footer_then_it_goes_before_body_end_with_the_escaped_address() -> None:
    footer = html_footer("https://x.example/unsubscribe/t", "Acme <Ltd>\n1 Main St")
    document = add_to_html("<html><body><p>hi</p></body></html>", footer)
    assert document.endswith(footer + "</body></html>")
    assert "Acme &lt;Ltd&gt;<br>1 Main St" in footer
    assert text_footer("https://u", "1 Main St").endswith("Unsubscribe: https://u\n1 Main St\n")


HTML_BITS = [
    "<p>", "</p>", "<div>", "</div>", "<a href='", "http://", "https://x.example/",
    "'>", "</a>", "<img src=x>", "<script>", "</script>", "<!--", "-->", "<!", "<![CDATA[",
    "{{ ", " }}", "{% if x %}", "{% endif %}", "&amp;", "&#", "<", ">", "\"", "'", " ",
    "FREE", "!!!", "<style>@import", "<form>", "</table>", "<br/>", "\x00", "é",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    subject=st.text(max_size=200),
    parts=st.lists(st.sampled_from(HTML_BITS) | st.text(max_size=5), max_size=60),
)
def test_any_content_is_checked_without_raising(subject: str, parts: list[str]) -> None:
    findings = check(Content(subject=subject, html="".join(parts)))
    assert all(f.severity in Severity for f in findings)
    assert [f.severity for f in findings] == sorted(
        (f.severity for f in findings), key=["error", "warning", "info"].index
    )
