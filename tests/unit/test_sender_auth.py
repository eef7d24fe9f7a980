"""The record parsers and judgements of ``domain.sender_auth`` (no DNS: answers are given)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from sendrail.domain import sender_auth as sa
from sendrail.domain.models import Mailbox, Provider
from sendrail.domain.sender_auth import Answer, Lookups


def test_given_a_typical_spf_record_then_its_terms_includes_and_lookups():
    record = sa.parse_spf(
        "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.com "
        "include:_spf.google.com ~include:x.example redirect=_spf.example.net -all"
    )
    assert record.errors == ()
    assert record.includes == ["_spf.google.com", "x.example"]
    assert record.redirect == "_spf.example.net"
    assert record.all_qualifier == "-"
    assert record.lookups == 5  # a, mx, two includes, redirect
    assert sa.covers_address(record, "192.0.2.77")
    assert sa.covers_address(record, "2001:db8::1")
    assert not sa.covers_address(record, "198.51.100.1")


def test_given_bad_terms_then_they_are_named_not_raised():
    record = sa.parse_spf("v=spf1 include: ip4:999.1.1.1 bogus a/24 ?all")
    assert record.errors == ("include:", "ip4:999.1.1.1", "bogus")
    assert [t.name for t in record.terms] == ["a", "all"]
    assert record.all_qualifier == "?"


def test_is_spf_needs_the_exact_version():
    assert sa.is_spf("v=spf1 -all") and sa.is_spf("V=SPF1") and not sa.is_spf("v=spf10 -all")


QUALIFIERS = st.sampled_from(["", "+", "-", "~", "?"])
LABEL = st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True)
DOMAIN = st.builds(lambda a, b: f"{a}.{b}", LABEL, LABEL)
TERM = st.one_of(
    st.builds(lambda q, d: f"{q}include:{d}", QUALIFIERS, DOMAIN),
    st.builds(lambda q: f"{q}a", QUALIFIERS),
    st.builds(lambda q: f"{q}mx", QUALIFIERS),
    st.builds(
        lambda q, a, n: f"{q}ip4:{a}/{n}",
        QUALIFIERS,
        st.ip_addresses(v=4).map(str),
        st.integers(0, 32),
    ),
)


@given(st.lists(TERM, max_size=15), st.sampled_from(["", " -all", " ~all", " +all"]))
def test_property_generated_records_parse_without_errors_and_count_their_lookups(
    terms: list[str], tail: str
):
    record = sa.parse_spf("v=spf1 " + " ".join(terms) + tail)
    assert record.errors == ()
    querying = sum(1 for t in terms if t.lstrip("+-~?").startswith(("include:", "a", "mx")))
    assert record.lookups == querying
    assert len(record.includes) == sum(1 for t in terms if "include:" in t)


@given(st.text(max_size=300))
def test_property_any_text_parses_without_raising(text: str):
    sa.parse_spf("v=spf1 " + text)
    sa.parse_dmarc(text)
    sa.dkim_key_status([text])


def test_given_an_include_chain_past_ten_then_too_many_lookups_and_bounded_queries():
    asked: list[str] = []

    def txt(name: str) -> Answer:
        asked.append(name)
        if name == "chain.test":
            return Answer("ok", ("v=spf1 include:n0.test -all",))
        n = int(name[1:].split(".")[0])
        return Answer("ok", (f"v=spf1 include:n{n + 1}.test -all",))

    _, tree, count = sa.walk_spf("chain.test", txt)
    assert count == 1 and tree is not None
    assert tree.lookups == sa.MAX_SPF_LOOKUPS + 1
    assert len(asked) <= sa.MAX_SPF_LOOKUPS + 2  # the domain, then at most 11 includes


def test_dmarc_records_parse_with_defaults_and_errors():
    full = sa.parse_dmarc("v=DMARC1; p=quarantine; sp=reject; adkim=s; pct=50; rua=mailto:a@x")
    assert (full.policy, full.subdomain_policy, full.adkim, full.aspf, full.pct) == (
        "quarantine",
        "reject",
        "s",
        "r",
        50,
    )
    assert full.rua == ("mailto:a@x",) and full.errors == ()
    bad = sa.parse_dmarc("p=reject; v=DMARC1")
    assert "v=DMARC1 must come first" in bad.errors
    assert sa.parse_dmarc("v=DMARC1; p=maybe").policy is None


def test_dkim_keys_found_revoked_or_missing():
    assert sa.dkim_key_status(["v=DKIM1; k=rsa; p=MIGf"]) == "found"
    assert sa.dkim_key_status(["v=DKIM1; p="]) == "revoked"
    assert sa.dkim_key_status(["something else"]) == "missing"


def test_alignment_relaxed_and_strict():
    assert sa.aligned("bounce.example.com", "example.com", "r")
    assert not sa.aligned("bounce.example.com", "example.com", "s")
    assert sa.organizational_domain("a.b.example.co.uk") == "example.co.uk"


def _mailbox(provider: Provider, email: str, **extra: object) -> Mailbox:
    now = datetime(2026, 11, 20, tzinfo=UTC)
    return Mailbox(
        id="mbx_1",
        tenant_id="t",
        provider=provider,
        email=email,
        created_at=now,
        updated_at=now,
        **extra,  # type: ignore[arg-type]
    )


def test_given_ses_with_its_dkim_tokens_then_dkim_aligns_but_spf_cannot():
    box = _mailbox(Provider.SES, "news@corp.example", dkim_selectors=["tok1"])
    assert sa.selectors_for(box) == ["tok1"]
    found = Lookups(
        spf=Answer("ok", ("v=spf1 include:amazonses.com ~all",)),
        spf_tree=sa.walk_spf(
            "corp.example", lambda n: Answer("ok", ("v=spf1 include:amazonses.com ~all",))
        )[1],
        spf_count=1,
        dkim={"tok1": Answer("ok", ("p=MIGf",))},
        dmarc=Answer("ok", ("v=DMARC1; p=none",)),
        dmarc_domain="corp.example",
        mx=Answer("nodata"),
    )
    view = sa.evaluate(box, found)
    assert view["spf"]["status"] == "ok" and view["dkim"]["status"] == "ok"
    # SES's envelope sender is Amazon's unless a custom MAIL FROM is set: DKIM carries DMARC
    assert view["dmarc"]["alignment"] == {"dkim": True, "spf": False}
    assert view["mx"]["status"] == "missing"


def _found(spf_records: dict[str, Answer], domain: str, **extra: object) -> Lookups:
    def txt(name: str) -> Answer:
        return spf_records.get(name, Answer("nxdomain"))

    spf, tree, count = sa.walk_spf(domain, txt)
    fields: dict[str, object] = {
        "spf": spf,
        "spf_tree": tree,
        "spf_count": count,
        "dkim": {},
        "dmarc": Answer("nxdomain"),
        "dmarc_domain": domain,
        "mx": Answer("ok", ("10 mx.example",)),
    }
    fields.update(extra)
    return Lookups(**fields)  # type: ignore[arg-type]


def test_given_an_include_that_cannot_be_read_then_not_a_verdict_of_not_authorized():
    box = _mailbox(Provider.GMAIL, "me@corp.example")
    records = {"corp.example": Answer("ok", ("v=spf1 include:_spf.corp.example ~all",))}
    records["_spf.corp.example"] = Answer("servfail")
    view = sa.evaluate(box, _found(records, "corp.example"))
    assert view["spf"]["status"] == "dns_error"
    assert "spf_provider_missing" not in {a["code"] for a in view["advice"]}
    # Readable and without Google: not authorised
    records["_spf.corp.example"] = Answer("ok", ("v=spf1 ip4:192.0.2.1 ~all",))
    assert sa.evaluate(box, _found(records, "corp.example"))["spf"]["status"] == "not_authorized"


def test_given_a_consumer_address_then_the_advice_says_the_domain_is_not_yours():
    box = _mailbox(Provider.GMAIL, "someone@gmail.com")
    records = {
        "gmail.com": Answer("ok", ("v=spf1 redirect=_spf.google.com",)),
        "_spf.google.com": Answer("ok", ("v=spf1 ip4:35.190.247.0/24 ~all",)),
    }
    view = sa.evaluate(box, _found(records, "gmail.com"))
    assert view["spf"]["status"] == "ok"  # the redirect is followed
    assert view["advice"][0]["code"] == "consumer_domain"
