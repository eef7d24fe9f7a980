"""Microseconds per email to compose a message: personalisation (unsubscribe token, click
rewriting, open pixel), ``compose()`` (subject, HTML and text rendered under the template
budget) and ``OutgoingMessage.as_bytes()`` (the MIME bytes every provider sends).

A realistic newsletter: about 2.5 kB of HTML with a dozen links, merge tags, a condition,
a loop over the recipient's data and a formatted price; each recipient different. With
tracking on (clicks and opens) and off. Also the cost of the template budget alone: the
same renders through a plain Jinja2 sandbox beside ours. Medians of several runs, no AWS,
no network: this is the CPU each email costs before it is handed to a provider.

``python bench/bench_compose.py [--profile]`` (``--profile`` prints cProfile's top entries
for the tracked case)."""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / p) for p in ("layers/common", ".")]

from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402
from sendrail.domain.compose import compose  # noqa: E402
from sendrail.domain.models import (  # noqa: E402
    Campaign,
    Mailbox,
    Provider,
    Recipient,
    SendingSettings,
)
from sendrail.domain.templates import render  # noqa: E402
from sendrail.services.personalise import personaliser  # noqa: E402

from bench.harness import median  # noqa: E402
from bench.quick import sized  # noqa: E402

EMAILS = sized(400, 20)
RUNS = sized(7, 1)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEY = b"bench-signing-key-0123456789abcdef"
BASE = "https://t.example.com"

STORIES = "".join(
    f'<tr><td style="padding:12px 24px;font-family:Arial,sans-serif;font-size:15px">'
    f'<h2 style="margin:0 0 6px">Story {i}: what changed this autumn</h2>'
    f"<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    f"incididunt ut labore et dolore magna aliqua.</p>"
    f'<a href="https://news.example.com/2026/11/story-{i}?utm_source=newsletter&amp;'
    f'utm_campaign=autumn&amp;ref={{{{ user_id }}}}">Read more</a></td></tr>'
    for i in range(1, 7)
)
HTML = (
    '<!doctype html><html><head><meta charset="utf-8"><title>Autumn news</title></head>'
    '<body style="margin:0;background:#f4f4f4"><table width="600" align="center" '
    'cellpadding="0" cellspacing="0" style="background:#fff">'
    '<tr><td style="padding:24px"><a href="https://www.example.com/"><img '
    'src="https://cdn.example.com/logo.png" alt="Example" width="120"></a></td></tr>'
    '<tr><td style="padding:0 24px"><h1>Hello {{ first_name|default("there") }},</h1>'
    "<p>Here is what is new at {{ company }} this month."
    "{% if plan == 'pro' %} As a Pro member you save 20% on everything.{% else %}"
    ' <a href="https://www.example.com/pricing">Upgrade to Pro</a>.{% endif %}</p></td></tr>'
    + STORIES
    + '<tr><td style="padding:12px 24px"><ul>{% for item in picks %}<li><a '
    'href="https://shop.example.com/p/{{ item.sku }}">{{ item.name|title }}</a> '
    "{{ '%.2f'|format(item.price) }} EUR</li>{% endfor %}</ul></td></tr>"
    '<tr><td style="padding:24px;font-size:12px;color:#666">You receive this because you '
    'subscribed at example.com. <a href="{{ unsubscribe_url }}">Unsubscribe</a> | '
    '<a href="mailto:help@example.com">Contact us</a></td></tr></table></body></html>'
)
SUBJECT = "{{ first_name|default('Hi') }}, autumn news from {{ company }}"


def campaign(tracking: bool) -> Campaign:
    return Campaign(
        id="cmp_01bench",
        tenant_id="ten_bench",
        name="Autumn",
        subject=SUBJECT,
        html=HTML,
        track_opens=tracking,
        track_clicks=tracking,
        headers={"X-Campaign": "autumn-2026"},
        created_at=NOW,
        updated_at=NOW,
    )


MAILBOX = Mailbox(
    id="mbx_1",
    tenant_id="ten_bench",
    provider=Provider.SMTP,
    email="news@example.com",
    from_name="Example News",
    created_at=NOW,
    updated_at=NOW,
)


def recipients() -> list[Recipient]:
    return [
        Recipient(
            campaign_id="cmp_01bench",
            email=f"reader{i}@example.org",
            tenant_id="ten_bench",
            data={
                "first_name": f"Reader{i}",
                "company": "Example",
                "plan": "pro" if i % 3 else "free",
                "user_id": f"u_{i:06d}",
                "picks": [
                    {"sku": f"sku-{i}-{j}", "name": f"item number {j}", "price": 9.5 + j}
                    for j in range(3)
                ],
            },
            created_at=NOW,
            updated_at=NOW,
        )
        for i in range(EMAILS)
    ]


def build_all(camp: Campaign, people: list[Recipient]) -> int:
    personalise = personaliser(KEY, BASE)
    settings = SendingSettings()
    size = 0
    for person in people:
        extra = personalise(camp, person, MAILBOX, settings)
        size += len(compose(camp, person, MAILBOX, NOW, extra).as_bytes())
    return size


def per_email_us(camp: Campaign, people: list[Recipient]) -> float:
    started = time.perf_counter()
    build_all(camp, people)
    return (time.perf_counter() - started) / len(people) * 1e6


def plain_renders_us(people: list[Recipient]) -> tuple[float, float]:
    """(our render, a plain Jinja2 sandbox) for subject + HTML, per email."""
    plain_html = ImmutableSandboxedEnvironment(autoescape=True).from_string(HTML)
    plain_subject = ImmutableSandboxedEnvironment().from_string(SUBJECT)
    datas = [{**p.data, "email": p.email, "unsubscribe_url": BASE} for p in people]

    def ours() -> None:
        for data in datas:
            render(SUBJECT, data)
            render(HTML, data, html=True)

    def plain() -> None:
        for data in datas:
            plain_subject.render(data)
            plain_html.render(data)

    timings: list[float] = []
    for fn in (ours, plain):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) / len(datas) * 1e6)
    return timings[0], timings[1]


def main(argv: list[str]) -> None:
    people = recipients()
    tracked, untracked = campaign(True), campaign(False)
    build_all(tracked, people[:20])  # compile and warm caches once
    on, off, ours, plain = [], [], [], []
    for _ in range(RUNS):  # interleaved, so a busy moment hits every figure alike
        on.append(per_email_us(tracked, people))
        off.append(per_email_us(untracked, people))
        budget, jinja = plain_renders_us(people)
        ours.append(budget)
        plain.append(jinja)
    size = build_all(tracked, people[:1])
    print(f"{EMAILS} emails, {RUNS} runs (medians), {len(HTML)} B of HTML, {size} B on the wire:")
    print(f"  compose + MIME, tracking on:   {median(on):7.1f} us/email")
    print(f"  compose + MIME, tracking off:  {median(off):7.1f} us/email")
    print(
        f"  template budget: subject+HTML {median(ours):6.1f} us/email with it, "
        f"{median(plain):6.1f} with a plain Jinja2 sandbox"
    )
    if "--profile" in argv:
        profile = cProfile.Profile()
        profile.enable()
        build_all(tracked, people)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main(sys.argv)
